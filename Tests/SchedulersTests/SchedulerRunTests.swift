// Runs every scheduler loop of the diffusers-tiny fixture and compares each tensor.
import Foundation
import XCTest
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
        var scheduler = try SchedulerFactory.make(kind: kind, config: try fixture.config(overrides: overrides))
        if var ddim = scheduler as? DDIMScheduler {
            ddim.eta = Float(stepKwargs["eta"] as? Double ?? 0)
            scheduler = ddim
        }
        try scheduler.setTimesteps(n)

        // Schedule tables.
        let refTimesteps = run["timesteps"] as? [Double] ?? []
        XCTAssertEqual(scheduler.timesteps.count, refTimesteps.count, "\(key): timestep count")
        assertClose(scheduler.timesteps.map { Float($0) }, try fixture.floats("\(key)/timesteps"), "\(key) timesteps")
        XCTAssertEqual(scheduler.timesteps.map { Float($0) }, refTimesteps.map { Float($0) }, "\(key): timesteps (json)")
        if fixture.tensors.contains("\(key)/sigmas") {
            assertClose(scheduler.sigmas ?? [], try fixture.floats("\(key)/sigmas"), "\(key) sigmas")
        }
        let refInit = Float(run["init_noise_sigma"] as? Double ?? 0)
        XCTAssertEqual(scheduler.initNoiseSigma, refInit, accuracy: 1e-5 * max(1, refInit), "\(key): init_noise_sigma")
        XCTAssertEqual(scheduler.order, run["order"] as? Int, "\(key): order")

        // The loop.
        let base = try fixture.floats("inputs/base_noise")
        let fixed = try fixture.floats("inputs/fixed_sample")
        let size = base.count
        let noiseRows = fixture.tensors.contains("\(key)/noise") ? try fixture.floats("\(key)/noise") : []
        let noiseSteps = fixture.tensors.contains("\(key)/noise_step_index")
            ? try fixture.tensors.int64s("\(key)/noise_step_index").map(Int.init) : nil
        var nextNoiseRow = 0
        var sample = base.map { $0 * scheduler.initNoiseSigma }
        var samples = sample, scaledFixed: [Float] = [], modelInputs: [Float] = [], originals: [Float] = []
        for (i, t) in scheduler.timesteps.enumerated() {
            scaledFixed += try scheduler.scaleModelInput(fixed, timestep: t)
            let input = try scheduler.scaleModelInput(sample, timestep: t)
            modelInputs += input
            let offset = Float(0.05 * sin(Double(i)))
            let modelOutput = input.map { 0.1 * $0 + offset }
            let noise: NoiseSource
            if noiseSteps == nil && !noiseRows.isEmpty {
                noise = .explicit(Array(noiseRows[(i * size)..<((i + 1) * size)]))  // DDIM variance_noise
            } else {
                noise = NoiseSource { count in
                    let row = nextNoiseRow
                    nextNoiseRow += 1
                    guard let steps = noiseSteps, row < steps.count, steps[row] == i, count == size else {
                        throw SchedulerError.noiseRequired(scheduler: "\(key): unexpected noise draw at step \(i)")
                    }
                    return Array(noiseRows[(row * size)..<((row + 1) * size)])
                }
            }
            let out = try scheduler.step(modelOutput: modelOutput, timestep: t, sample: sample, noise: noise)
            sample = out.prevSample
            samples += sample
            originals += out.predOriginalSample ?? []
        }
        if let steps = noiseSteps { XCTAssertEqual(nextNoiseRow, steps.count, "\(key): number of noise draws") }
        assertClose(scaledFixed, try fixture.floats("\(key)/scaled_fixed"), "\(key) scaled_fixed")
        assertClose(modelInputs, try fixture.floats("\(key)/model_input"), "\(key) model_input")
        assertClose(samples, try fixture.floats("\(key)/samples"), "\(key) samples")
        if fixture.tensors.contains("\(key)/pred_original_sample") {
            assertClose(originals, try fixture.floats("\(key)/pred_original_sample"), "\(key) pred_original_sample")
        }
    }
}
