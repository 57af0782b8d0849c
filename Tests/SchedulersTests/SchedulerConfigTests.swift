// Tests of SchedulerConfig decoding, per-class defaults, the factory and error messages.
import Foundation
import XCTest
import TensorCore
import TestSupport
@testable import Schedulers

final class SchedulerConfigTests: XCTestCase {
    func decode(_ text: String) throws -> SchedulerConfig { try SchedulerConfig.decode(Data(text.utf8)) }

    func testPipelineFolderConfigDecodes() throws {
        let config = try SchedulerConfig.load(from: try SharedData.url("fixtures/diffusers-tiny/scheduler"))
        XCTAssertEqual(config.className, "PNDMScheduler")
        XCTAssertEqual(config.betaSchedule, .scaledLinear)
        XCTAssertEqual(config.betaStart, 0.00085)
        XCTAssertEqual(config.betaEnd, 0.012)
        XCTAssertEqual(config.stepsOffset, 1)
        XCTAssertTrue(config.skipPrkSteps)
        XCTAssertFalse(config.setAlphaToOne)
        XCTAssertNil(config.trainedBetas)
        XCTAssertTrue(config.explicitKeys.contains("timestep_spacing"))
    }

    /// Every run's resolved diffusers config (schedulers.json) equals ours for each key we model:
    /// this checks the per-class defaults and that from_config keeps the file's keys.
    func testResolvedConfigsMatchDiffusersFromConfig() throws {
        let fixture = try SchedulerFixture.get()
        let modelled = Set(SchedulerConfig.keys).subtracting(["_class_name"])
        for (key, run) in fixture.runs {
            guard let kind = SchedulerKind(className: run["class"] as? String ?? "") else { return XCTFail(key) }
            let overrides = run["from_config_overrides"] as? [String: Any] ?? [:]
            let resolved = try fixture.config(overrides: overrides).applyingDefaults(of: kind)
            let ours = try JSONSerialization.jsonObject(with: JSONEncoder().encode(resolved)) as? [String: Any] ?? [:]
            let theirs = run["config"] as? [String: Any] ?? [:]
            for name in modelled where theirs[name] != nil {
                let expected = theirs[name], actual = ours[name]
                if expected is NSNull || (expected as? String) == "-Infinity" {
                    XCTAssertTrue(actual == nil || actual is NSNull, "\(key): \(name) should be unset, is \(actual ?? "nil")")
                } else if let e = expected as? NSNumber, let a = actual as? NSNumber {
                    XCTAssertEqual(e.doubleValue, a.doubleValue, "\(key): \(name)")
                } else {
                    XCTAssertEqual("\(expected ?? "nil")", "\(actual ?? "nil")", "\(key): \(name)")
                }
            }
        }
    }

    func testUnknownKeysAndPythonInfinityAreAccepted() throws {
        let config = try decode("""
        {"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "some_future_key": [1, 2],
         "beta_schedule": "scaled_linear", "note": "NaN inside a string stays a string"}
        """)
        XCTAssertNil(config.lambdaMinClipped)
        XCTAssertEqual(config.betaSchedule, .scaledLinear)
        XCTAssertEqual(try decode(#"{"lambda_min_clipped": -5.1}"#).lambdaMinClipped, -5.1)
    }

    func testRoundTripThroughJSON() throws {
        var config = SchedulerConfig.defaults(of: .euler)
        config.useKarrasSigmas = true
        config.predictionType = .vPrediction
        let again = try SchedulerConfig.decode(try JSONEncoder().encode(config))
        XCTAssertEqual(again, config)
    }

    func testTypeMismatchNamesTheKey() {
        XCTAssertThrowsError(try decode(#"{"num_train_timesteps": "many"}"#)) { error in
            XCTAssertEqual((error as? ConfigError)?.key, "num_train_timesteps", "\(error)")
        }
        XCTAssertThrowsError(try SchedulerConfig.load(from: URL(fileURLWithPath: "/nonexistent/scheduler"))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/scheduler"), "\(error)")
        }
    }

    func testUnsupportedValuesNameFieldAndValue() throws {
        let cases: [(String, SchedulerKind, String, String)] = [
            (#"{"beta_schedule": "sigmoid"}"#, .ddpm, "beta_schedule", "sigmoid"),
            (#"{"prediction_type": "flow_prediction"}"#, .euler, "prediction_type", "flow_prediction"),
            (#"{"use_beta_sigmas": true}"#, .euler, "use_beta_sigmas", "true"),
            (#"{"timestep_spacing": "uniform"}"#, .ddim, "timestep_spacing", "uniform"),
            (#"{"algorithm_type": "sde-dpmsolver"}"#, .dpmSolverMultistep, "algorithm_type", "sde-dpmsolver"),
            (#"{"prediction_type": "sample"}"#, .pndm, "prediction_type", "sample"),
            (#"{"thresholding": true}"#, .ddim, "thresholding", "true"),
            (#"{"trained_betas": [0.1, 0.2]}"#, .ddim, "trained_betas", "2 values"),
        ]
        for (json, kind, field, value) in cases {
            XCTAssertThrowsError(try kind.make(config: try decode(json)), json) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(field) && message.contains(value), message)
            }
        }
    }

    func testFactoryNamesKeepTheFoldersBetasAndPredictionType() throws {
        var config = try SchedulerFixture.get().config(overrides: ["prediction_type": "v_prediction"])
        config.className = "PNDMScheduler"
        for name in SamplerName.allCases.map(\.rawValue) {
            let scheduler = try makeScheduler(name: name, config: config)
            XCTAssertEqual(scheduler.config.betaSchedule, .scaledLinear, name)
            XCTAssertEqual(scheduler.config.betaEnd, 0.012, name)
            XCTAssertEqual(scheduler.config.stepsOffset, 1, name)
            // PNDM and LCM support v_prediction too; every scheduler keeps the folder's type.
            XCTAssertEqual(scheduler.config.predictionType, .vPrediction, name)
        }
        XCTAssertEqual(try makeScheduler(name: "dpm++2m-karras", config: config).config.useKarrasSigmas, true)
        XCTAssertEqual(try makeScheduler(name: "dpm++2m", config: config).config.useKarrasSigmas, false)
        XCTAssertEqual(try makeScheduler(name: "euler", config: config).config.timestepSpacing, .linspace)
        XCTAssertTrue(try makeScheduler(config: config) is PNDMScheduler)
    }

    func testUnknownNamesListTheValidOnes() throws {
        XCTAssertThrowsError(try makeScheduler(name: "dpm++3m", config: SchedulerConfig())) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("dpm++3m"), message)
            for name in SamplerName.allCases { XCTAssertTrue(message.contains(name.rawValue), message) }
        }
        var config = SchedulerConfig()
        config.className = "UniPCMultistepScheduler"
        XCTAssertThrowsError(try makeScheduler(config: config)) { error in
            XCTAssertTrue("\(error)".contains("UniPCMultistepScheduler") && "\(error)".contains("EulerDiscreteScheduler"), "\(error)")
        }
    }

    /// An unknown enumerated value is a ConfigError naming the file and the key, and
    /// listing the values diffusers accepts.
    func testUnknownPredictionTypeIsAConfigErrorNamingTheKey() throws {
        XCTAssertThrowsError(try SchedulerConfig.decode(Data(#"{"prediction_type": "flow_prediction"}"#.utf8),
                                                        path: "/models/x/scheduler/scheduler_config.json")) { error in
            guard let error = error as? ConfigError else { return XCTFail("not a ConfigError: \(error)") }
            XCTAssertEqual(error.file, "/models/x/scheduler/scheduler_config.json")
            XCTAssertEqual(error.key, "prediction_type")
            XCTAssertTrue(error.reason.contains("flow_prediction") && error.reason.contains("v_prediction"), error.reason)
        }
        for (key, value) in [("timestep_spacing", "uniform"), ("beta_schedule", "sigmoid")] {
            XCTAssertThrowsError(try decode("{\"\(key)\": \"\(value)\"}")) { error in
                XCTAssertEqual((error as? ConfigError)?.key, key, "\(error)")
            }
        }
    }

    /// The enums carry diffusers' spellings, and every field round-trips through the table.
    func testEnumsUseDiffusersRawValuesAndTheVersionIsWritten() throws {
        XCTAssertEqual(PredictionType.allCases.map(\.rawValue), ["epsilon", "v_prediction", "sample"])
        XCTAssertEqual(TimestepSpacing.allCases.map(\.rawValue), ["linspace", "leading", "trailing"])
        XCTAssertEqual(BetaSchedule.allCases.map(\.rawValue), ["linear", "scaled_linear", "squaredcos_cap_v2"])
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(SchedulerConfig.defaults(of: .dpmSolverMultistep)))
        let object = json as? [String: Any] ?? [:]
        XCTAssertEqual(object["_diffusers_version"] as? String, ConfigFile.diffusersVersion)
        XCTAssertEqual(object["prediction_type"] as? String, "epsilon")
        XCTAssertEqual(object["timestep_spacing"] as? String, "linspace")
        XCTAssertTrue(object["variance_type"] is NSNull, "None is written as null")
        XCTAssertEqual(Set(object.keys), Set(SchedulerConfig.keys + ["_diffusers_version"]).subtracting(["lambda_min_clipped"]))
    }

    /// The sampler table forces its keys over the folder's and records them as explicit.
    func testSamplerOverridesAreExplicitKeys() throws {
        let folder = try SchedulerConfig.decode(Data(#"{"_class_name": "PNDMScheduler", "use_karras_sigmas": true}"#.utf8))
        let dpm = try XCTUnwrap(try SamplerName.dpmpp2m.make(config: folder) as? DPMSolverMultistepScheduler)
        XCTAssertEqual(dpm.ladder.spacing, .interpolated)
        XCTAssertEqual(dpm.config.solverOrder, 2)
        XCTAssertTrue(dpm.config.explicitKeys.isSuperset(of: ["use_karras_sigmas", "solver_order", "algorithm_type"]))
        XCTAssertEqual(SamplerName.eulerKarras.kind, .euler)
        // PNDM's skip_prk_steps is a fallback: a folder that sets it keeps its value.
        let prk = try SchedulerConfig.decode(Data(#"{"skip_prk_steps": false}"#.utf8))
        XCTAssertThrowsError(try SamplerName.pndm.make(config: prk))
        XCTAssertTrue(try SamplerName.pndm.make(config: SchedulerConfig()) is PNDMScheduler)
    }
}
