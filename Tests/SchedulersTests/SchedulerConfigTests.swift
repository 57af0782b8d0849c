// Tests of SchedulerConfig decoding, per-class defaults, the factory and error messages.
import Foundation
import XCTest
import TestSupport
@testable import Schedulers

final class SchedulerConfigTests: XCTestCase {
    func decode(_ text: String) throws -> SchedulerConfig { try SchedulerConfig.decode(Data(text.utf8)) }

    func testPipelineFolderConfigDecodes() throws {
        let config = try SchedulerConfig.load(from: try SharedData.url("fixtures/diffusers-tiny/scheduler"))
        XCTAssertEqual(config.className, "PNDMScheduler")
        XCTAssertEqual(config.betaSchedule, "scaled_linear")
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
        let modelled = Set(SchedulerConfig.CodingKeys.allCases.map(\.rawValue)).subtracting(["_class_name", "_diffusers_version"])
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
        XCTAssertEqual(config.betaSchedule, "scaled_linear")
        XCTAssertEqual(try decode(#"{"lambda_min_clipped": -5.1}"#).lambdaMinClipped, -5.1)
    }

    func testRoundTripThroughJSON() throws {
        var config = SchedulerConfig.defaults(of: .euler)
        config.useKarrasSigmas = true
        config.predictionType = "v_prediction"
        let again = try SchedulerConfig.decode(try JSONEncoder().encode(config))
        XCTAssertEqual(again, config)
    }

    func testTypeMismatchNamesTheKey() {
        XCTAssertThrowsError(try decode(#"{"num_train_timesteps": "many"}"#)) { error in
            XCTAssertTrue("\(error)".contains("num_train_timesteps"), "\(error)")
        }
        XCTAssertThrowsError(try SchedulerConfig.load(from: URL(fileURLWithPath: "/nonexistent/scheduler"))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/scheduler"), "\(error)")
        }
    }

    func testUnsupportedValuesNameFieldAndValue() throws {
        let cases: [(String, SchedulerKind, String, String)] = [
            (#"{"beta_schedule": "sigmoid"}"#, .ddpm, "beta_schedule", "sigmoid"),
            (#"{"prediction_type": "flow_prediction"}"#, .euler, "prediction_type", "flow_prediction"),
            (#"{"timestep_spacing": "uniform"}"#, .ddim, "timestep_spacing", "uniform"),
            (#"{"algorithm_type": "sde-dpmsolver++"}"#, .dpmSolverMultistep, "algorithm_type", "sde-dpmsolver++"),
            (#"{"prediction_type": "sample"}"#, .pndm, "prediction_type", "sample"),
            (#"{"thresholding": true}"#, .ddim, "thresholding", "true"),
            (#"{"trained_betas": [0.1, 0.2]}"#, .ddim, "trained_betas", "2 values"),
        ]
        for (json, kind, field, value) in cases {
            XCTAssertThrowsError(try SchedulerFactory.make(kind: kind, config: try decode(json)), json) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(field) && message.contains(value), message)
            }
        }
    }

    func testFactoryNamesKeepTheFoldersBetasAndPredictionType() throws {
        var config = try SchedulerFixture.get().config(overrides: ["prediction_type": "v_prediction"])
        config.className = "PNDMScheduler"
        for name in SchedulerFactory.names {
            let scheduler = try makeScheduler(name: name, config: config)
            XCTAssertEqual(scheduler.config.betaSchedule, "scaled_linear", name)
            XCTAssertEqual(scheduler.config.betaEnd, 0.012, name)
            XCTAssertEqual(scheduler.config.stepsOffset, 1, name)
            // PNDM and LCM support v_prediction too; every scheduler keeps the folder's type.
            XCTAssertEqual(scheduler.config.predictionType, "v_prediction", name)
        }
        XCTAssertEqual(try makeScheduler(name: "dpm++2m-karras", config: config).config.useKarrasSigmas, true)
        XCTAssertEqual(try makeScheduler(name: "dpm++2m", config: config).config.useKarrasSigmas, false)
        XCTAssertEqual(try makeScheduler(name: "euler", config: config).config.timestepSpacing, "linspace")
        XCTAssertTrue(try SchedulerFactory.make(config: config) is PNDMScheduler)
    }

    func testUnknownNamesListTheValidOnes() throws {
        XCTAssertThrowsError(try makeScheduler(name: "dpm++3m", config: SchedulerConfig())) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("dpm++3m"), message)
            for name in SchedulerFactory.names { XCTAssertTrue(message.contains(name), message) }
        }
        var config = SchedulerConfig()
        config.className = "UniPCMultistepScheduler"
        XCTAssertThrowsError(try SchedulerFactory.make(config: config)) { error in
            XCTAssertTrue("\(error)".contains("UniPCMultistepScheduler") && "\(error)".contains("EulerDiscreteScheduler"), "\(error)")
        }
    }
}
