// DPM-Solver++ SDE (A1111's "DPM++ 2M SDE") against diffusers 0.39.0, with the noise given per step.
import Foundation
import XCTest
import TensorCore
@testable import Schedulers

/// The reference values come from diffusers 0.39.0:
/// ```python
/// cfg = dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, num_train_timesteps=1000,
///            timestep_spacing="leading", steps_offset=1, algorithm_type="sde-dpmsolver++")
/// def pattern(phase):  # [1, 1, 2, 2]
///     return torch.tensor([math.sin(i * 0.37 + phase) for i in range(4)]).reshape(1, 1, 2, 2)
/// s = DPMSolverMultistepScheduler(**cfg, **extra); s.set_timesteps(n)
/// sample = pattern(0) * s.init_noise_sigma
/// for i, t in enumerate(s.timesteps):
///     out = sample * 0.1 + 0.05 * math.sin(i)
///     sample = s.step(out, t, sample, variance_noise=pattern(1 + i)).prev_sample
/// ```
/// Each case runs a different solver branch: the midpoint 2M on Karras sigmas (6 steps, so the
/// lower-order final steps too), the Heun variant, and third order over 16 steps.
final class DPMSolverSDETests: XCTestCase {
    func pattern(_ phase: Double) throws -> Tensor {
        try Tensor(shape: [1, 1, 2, 2], values: (0..<4).map { Float(sin(Double($0) * 0.37 + phase)) })
    }

    func run(_ overrides: (inout SchedulerConfig) -> Void, keys: [String], steps: Int, timesteps: [Double], final: [Float],
             file: StaticString = #filePath, line: UInt = #line) throws {
        let config = SchedulerConfig().setting({
            $0.betaSchedule = .scaledLinear; $0.betaStart = 0.00085; $0.betaEnd = 0.012
            $0.timestepSpacing = .leading; $0.stepsOffset = 1; $0.algorithmType = "sde-dpmsolver++"
            overrides(&$0)
        }, keys: ["beta_schedule", "beta_start", "beta_end", "timestep_spacing", "steps_offset", "algorithm_type"] + keys)
        var scheduler = try DPMSolverMultistepScheduler(config: config)
        try scheduler.setTimesteps(steps)
        XCTAssertEqual(scheduler.timesteps, timesteps, file: file, line: line)
        var sample = try pattern(0) * scheduler.initNoiseSigma
        var draws = 0
        for (i, t) in scheduler.timesteps.enumerated() {
            let noise = try pattern(Double(1 + i))
            let source = NoiseSource { _ in draws += 1; return noise }
            sample = try scheduler.step(modelOutput: sample * 0.1 + Float(0.05 * sin(Double(i))), timestep: t,
                                        sample: sample, noise: source).prevSample
        }
        XCTAssertEqual(draws, steps, "one draw per step, the last included", file: file, line: line)
        for (ours, theirs) in zip(sample.values, final) {
            XCTAssertEqual(ours, theirs, accuracy: 1e-5 * max(1, abs(theirs)), file: file, line: line)
        }
    }

    func testSecondOrderMidpointOnKarrasSigmasMatchesDiffusers() throws {
        try run({ $0.useKarrasSigmas = true }, keys: ["use_karras_sigmas"], steps: 6,
                timesteps: [999, 837, 594, 249, 30, 0],
                final: [9.108902931213379, 11.94149398803711, 13.090307235717773, 12.399852752685547])
    }

    func testSecondOrderHeunMatchesDiffusers() throws {
        try run({ $0.solverType = "heun" }, keys: ["solver_type"], steps: 5,
                timesteps: [831, 665, 499, 333, 167],
                final: [3.7340877056121826, 4.7830400466918945, 5.163053035736084, 4.822688579559326])
    }

    func testThirdOrderMatchesDiffusers() throws {
        try run({ $0.solverOrder = 3 }, keys: ["solver_order"], steps: 16,
                timesteps: [929, 871, 813, 755, 697, 639, 581, 523, 465, 407, 349, 291, 233, 175, 117, 59],
                final: [4.566311836242676, 6.090564250946045, 6.762604713439941, 6.491466522216797])
    }

    /// Without noise the SDE variant refuses to step rather than silently running the ODE.
    func testTheSDEVariantNeedsNoise() throws {
        let config = SchedulerConfig().setting({ $0.algorithmType = "sde-dpmsolver++" }, keys: ["algorithm_type"])
        var scheduler = try DPMSolverMultistepScheduler(config: config)
        try scheduler.setTimesteps(4)
        let sample = try pattern(0)
        XCTAssertThrowsError(try scheduler.step(modelOutput: sample, timestep: scheduler.timesteps[0], sample: sample, noise: .none))
    }
}
