// Runs every scheduler loop of the diffusers-tiny fixture and compares each tensor.
import Foundation
import XCTest
import TensorCore
import TestSupport
@testable import Schedulers

final class SchedulerRunTests: XCTestCase {
    /// The 28 runs, each through the README's loop.
    func testAllFixtureRuns() throws {
        let fixture = try SchedulerFixture.get()
        XCTAssertEqual(fixture.runs.count, 28)
        for key in fixture.runs.keys.sorted() {
            try checkRun(key, fixture: fixture)
        }
    }

    func checkRun(_ key: String, fixture: SchedulerFixture) throws {
        let run = fixture.runs[key] ?? [:]
        let className = run["class"] as? String ?? ""
        guard let kind = SchedulerKind(className: className) else { return XCTFail("\(key): unknown class \(className)") }
        let overrides = run["from_config_overrides"] as? [String: Any] ?? [:]
        let stepKwargs = run["step_kwargs"] as? [String: Any] ?? [:]
        let n = run["num_inference_steps"] as? Int ?? 0
        var scheduler = try kind.make(config: try fixture.config(overrides: overrides))
        if var ddim = scheduler as? DDIMScheduler {
            ddim.eta = Float(stepKwargs["eta"] as? Double ?? 0)
            scheduler = ddim
        }
        try scheduler.setTimesteps(n)

        // Schedule tables.
        let refTimesteps = run["timesteps"] as? [Double] ?? []
        XCTAssertEqual(scheduler.timesteps.count, refTimesteps.count, "\(key): timestep count")
        assertClose(scheduler.timesteps.map { Float($0) }, try fixture.floats("\(key)/timesteps"), relative: 1e-5, "\(key) timesteps")
        XCTAssertEqual(scheduler.timesteps.map { Float($0) }, refTimesteps.map { Float($0) }, "\(key): timesteps (json)")
        if fixture.tensors.contains("\(key)/sigmas") {
            assertClose(scheduler.sigmas ?? [], try fixture.floats("\(key)/sigmas"), relative: 1e-5, "\(key) sigmas")
        }
        let refInit = Float(run["init_noise_sigma"] as? Double ?? 0)
        XCTAssertEqual(scheduler.initNoiseSigma, refInit, accuracy: 1e-5 * max(1, refInit), "\(key): init_noise_sigma")
        XCTAssertEqual(scheduler.order, run["order"] as? Int, "\(key): order")

        // The loop, on [1, 4, 8, 8] tensors.
        let base = try fixture.tensor("inputs/base_noise")
        let fixed = try fixture.tensor("inputs/fixed_sample")
        let noiseRows = fixture.tensors.contains("\(key)/noise") ? try fixture.rows("\(key)/noise").map { $0.reshaped(base.shape) } : []
        let noiseSteps = fixture.tensors.contains("\(key)/noise_step_index")
            ? try fixture.tensors.int64s("\(key)/noise_step_index").map(Int.init) : nil
        var nextNoiseRow = 0
        var sample = base * scheduler.initNoiseSigma
        var samples = [sample], scaledFixed: [Tensor] = [], modelInputs: [Tensor] = [], originals: [Tensor] = []
        for (i, t) in scheduler.timesteps.enumerated() {
            scaledFixed.append(try scheduler.scaleModelInput(fixed, timestep: t))
            let input = try scheduler.scaleModelInput(sample, timestep: t)
            modelInputs.append(input)
            let modelOutput = input * 0.1 + Float(0.05 * sin(Double(i)))
            let noise: NoiseSource
            if noiseSteps == nil && !noiseRows.isEmpty {
                noise = .explicit(noiseRows[i])  // DDIM variance_noise
            } else {
                noise = NoiseSource { shape in
                    let row = nextNoiseRow
                    nextNoiseRow += 1
                    guard let steps = noiseSteps, row < steps.count, steps[row] == i, shape == base.shape else {
                        throw SchedulerError.noiseRequired(scheduler: "\(key): unexpected noise draw at step \(i)")
                    }
                    return noiseRows[row]
                }
            }
            let out = try scheduler.step(modelOutput: modelOutput, timestep: t, sample: sample, noise: noise)
            XCTAssertEqual(out.prevSample.shape, base.shape, "\(key): step keeps the shape")
            sample = out.prevSample
            samples.append(sample)
            if let original = out.predOriginalSample { originals.append(original) }
        }
        if let steps = noiseSteps { XCTAssertEqual(nextNoiseRow, steps.count, "\(key): number of noise draws") }
        assertClose(scaledFixed.flatValues, try fixture.floats("\(key)/scaled_fixed"), relative: 1e-5, "\(key) scaled_fixed")
        assertClose(modelInputs.flatValues, try fixture.floats("\(key)/model_input"), relative: 1e-5, "\(key) model_input")
        assertClose(samples.flatValues, try fixture.floats("\(key)/samples"), relative: 1e-5, "\(key) samples")
        if fixture.tensors.contains("\(key)/pred_original_sample") {
            assertClose(originals.flatValues, try fixture.floats("\(key)/pred_original_sample"), relative: 1e-5,
                        "\(key) pred_original_sample")
        }
    }
}
