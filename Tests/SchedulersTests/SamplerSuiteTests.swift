// One suite every sampler name runs (diffusers' SchedulerCommonTest): shapes kept, values finite.
import Foundation
import XCTest
import TensorCore
@testable import Schedulers

final class SamplerSuiteTests: XCTestCase {
    let shape = [2, 4, 3, 5]  // [N, C, H, W]

    func pattern(_ phase: Double) throws -> Tensor {
        try Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { Float(sin(Double($0) * 0.37 + phase)) })
    }

    /// Loops of 1 and 4 steps: scaleModelInput, step and addNoise keep the [N, C, H, W] shape and
    /// give finite values; every draw is asked for with the sample's shape.
    func testEverySamplerKeepsShapesAndStaysFinite() throws {
        for name in SamplerName.allCases {
            for count in [1, 4] {
                let what = "\(name.rawValue) n=\(count)"
                var scheduler = try name.make(config: SchedulerConfig())
                try scheduler.setTimesteps(count)
                XCTAssertFalse(scheduler.timesteps.isEmpty, what)
                var sample = try pattern(0) * scheduler.initNoiseSigma
                let noise = NoiseSource { [shape] requested in
                    XCTAssertEqual(requested, shape, "\(what): noise shape")
                    return Tensor(shape: requested, repeating: 0.3)
                }
                for t in scheduler.timesteps {
                    let input = try scheduler.scaleModelInput(sample, timestep: t)
                    XCTAssertEqual(input.shape, shape, "\(what): scaleModelInput")
                    let out = try scheduler.step(modelOutput: input * 0.1, timestep: t, sample: sample, noise: noise)
                    XCTAssertEqual(out.prevSample.shape, shape, "\(what): step")
                    if let original = out.predOriginalSample { XCTAssertEqual(original.shape, shape, "\(what): x0") }
                    sample = out.prevSample
                }
                XCTAssertTrue(sample.values.allSatisfy(\.isFinite), "\(what): \(sample.values.prefix(4))")

                var fresh = try name.make(config: SchedulerConfig())
                try fresh.setTimesteps(count)
                let noisy = try fresh.addNoise(original: try pattern(1), noise: try pattern(2), timestep: fresh.timesteps[0])
                XCTAssertEqual(noisy.shape, shape, "\(what): addNoise")
                XCTAssertTrue(noisy.values.allSatisfy(\.isFinite), "\(what): addNoise values")
            }
        }
    }

    /// Every name builds the class its table entry names, and round-trips through its raw value.
    func testNamesMapToTheirClasses() throws {
        let expected: [SamplerName: String] = [
            .ddim: "DDIMScheduler", .pndm: "PNDMScheduler", .euler: "EulerDiscreteScheduler",
            .eulerKarras: "EulerDiscreteScheduler", .eulerAncestral: "EulerAncestralDiscreteScheduler",
            .dpmpp2m: "DPMSolverMultistepScheduler", .dpmpp2mKarras: "DPMSolverMultistepScheduler",
            .dpmpp2mSDE: "DPMSolverMultistepScheduler", .dpmpp2mSDEKarras: "DPMSolverMultistepScheduler",
            .lms: "LMSDiscreteScheduler", .heun: "HeunDiscreteScheduler", .lcm: "LCMScheduler", .ddpm: "DDPMScheduler",
        ]
        XCTAssertEqual(SamplerName.allCases.map(\.rawValue),
                       ["euler", "euler-karras", "euler-a", "dpm++2m", "dpm++2m-karras", "dpm++2m-sde",
                        "dpm++2m-sde-karras", "ddim", "pndm", "lms", "heun", "lcm", "ddpm"])
        for name in SamplerName.allCases {
            let scheduler = try name.make(config: SchedulerConfig())
            XCTAssertEqual(scheduler.config.className, expected[name], name.rawValue)
            XCTAssertEqual("\(type(of: scheduler))", expected[name], name.rawValue)
            XCTAssertEqual(SamplerName(rawValue: name.rawValue), name)
        }
    }

    /// Choosing the spacing by enum gives the same tables as the config flags did, for each
    /// ladder-owning sampler: interpolated is the plain table, Karras/exponential bend it.
    func testSpacingEnumGivesTheSameTablesAsTheFlags() throws {
        let base = SchedulerConfig().setting({ $0.timestepSpacing = .leading; $0.stepsOffset = 1 },
                                             keys: ["timestep_spacing", "steps_offset"])
        let schedule = try NoiseSchedule(config: base, scheduler: "test")
        for spacing in SigmaSpacing.allCases {
            let flags = base.setting({
                $0.useKarrasSigmas = spacing == .karras
                $0.useExponentialSigmas = spacing == .exponential
            }, keys: ["use_karras_sigmas", "use_exponential_sigmas"])
            XCTAssertEqual(try SigmaSpacing(config: flags, scheduler: "test"), spacing)
            var euler = try EulerDiscreteScheduler(config: flags)
            try euler.setTimesteps(10)
            let tables = try SigmaLadder(config: euler.config, scheduler: "test", spacing: spacing).tables(count: 10)
            XCTAssertEqual(euler.timesteps, tables.timesteps, "\(spacing)")
            XCTAssertEqual(euler.sigmas, tables.sigmas.map { Float($0) } + [0], "\(spacing)")
        }
        // Interpolated: the training sigmas at the leading timesteps 901, 801, ..., 1.
        let interpolated = try SigmaLadder(config: SchedulerConfig.defaults(of: .euler).setting({
            $0.timestepSpacing = .leading; $0.stepsOffset = 1 }, keys: []), scheduler: "test", spacing: .interpolated).tables(count: 10)
        XCTAssertEqual(interpolated.timesteps, stride(from: 901.0, through: 1, by: -100).map { $0 })
        let trainSigmas = schedule.trainingSigmas
        XCTAssertEqual(interpolated.sigmas.map { Float($0) }, interpolated.timesteps.map { trainSigmas[Int($0)] })
        // Exponential: evenly spaced in log sigma between the same ends.
        let exponential = try SigmaLadder(config: base, scheduler: "test", spacing: .exponential).tables(count: 10)
        let logs = exponential.sigmas.map { Foundation.log($0) }
        let steps = zip(logs.dropFirst(), logs).map { $0 - $1 }
        for step in steps { XCTAssertEqual(step, steps[0], accuracy: 1e-9) }
        XCTAssertEqual(exponential.sigmas[0], interpolated.sigmas[0], accuracy: 1e-9)
        XCTAssertEqual(exponential.sigmas[9], interpolated.sigmas[9], accuracy: 1e-9)
        // Both flags at once is an error, as in diffusers.
        let both = base.setting({ $0.useKarrasSigmas = true; $0.useExponentialSigmas = true },
                                keys: ["use_karras_sigmas", "use_exponential_sigmas"])
        XCTAssertThrowsError(try EulerDiscreteScheduler(config: both))
    }
}
