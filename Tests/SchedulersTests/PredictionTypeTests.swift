// The "sample" and "v_prediction" branches against the fixture-checked epsilon branch.
import Foundation
import XCTest
@testable import Schedulers

/// A model that predicts epsilon, re-expressed as x0 or v, must drive every scheduler along
/// the same trajectory as the epsilon model: x0 = (x_vp - sigma_t * eps) / alpha_t and
/// v = alpha_t * eps - sigma_t * x0, with (alpha_t, sigma_t) the step's signal and noise scales.
final class PredictionTypeTests: XCTestCase {
    func testSampleAndVPredictionFollowTheEpsilonTrajectory() throws {
        let base = try SchedulerFixture.get().config()
        let cases: [(SchedulerKind, [String])] = [
            (.ddpm, ["sample", "v_prediction"]), (.ddim, ["sample", "v_prediction"]), (.lcm, ["sample", "v_prediction"]),
            (.euler, ["sample", "v_prediction"]), (.eulerAncestral, ["v_prediction"]), (.lms, ["sample", "v_prediction"]),
            (.heun, ["sample", "v_prediction"]), (.dpmSolverMultistep, ["sample", "v_prediction"]),
        ]
        for (kind, types) in cases {
            let reference = try trajectory(kind, base, as: "epsilon")
            for type in types {
                let other = try trajectory(kind, base, as: type)
                assertClose(other, reference, "\(kind.className) \(type)", relative: 1e-4)
            }
        }
    }

    /// Runs 8 steps of the test model, expressed in `type`, and returns all samples.
    func trajectory(_ kind: SchedulerKind, _ base: SchedulerConfig, as type: String) throws -> [Float] {
        var scheduler = try SchedulerFactory.make(kind: kind, config: base.setting({ $0.predictionType = type }, keys: ["prediction_type"]))
        try scheduler.setTimesteps(8)
        let alphaBased = [.ddpm, .ddim, .lcm].contains(kind)
        var sample = (0..<64).map { Float(sin(Double($0) * 0.7)) * scheduler.initNoiseSigma }
        var all = sample
        var draws = 0
        let noise = NoiseSource { count in
            draws += 1
            return (0..<count).map { Float(cos(Double($0 + 31 * draws))) }
        }
        for (i, t) in scheduler.timesteps.enumerated() {
            let input = try scheduler.scaleModelInput(sample, timestep: t)
            let eps = input.map { 0.1 * $0 + Float(0.05 * sin(Double(i))) }
            let alpha: Float, sigmaT: Float, signal: [Float]
            if alphaBased {
                let acp = scheduler.noiseSchedule.alphasCumprod[Int(t)]
                (alpha, sigmaT, signal) = (acp.squareRoot(), (1 - acp).squareRoot(), sample)
            } else {
                let s = scheduler.sigmas?[i] ?? .nan
                alpha = 1 / (s * s + 1).squareRoot()
                sigmaT = s * alpha
                // Euler-type samples are variance-exploding (x0 + sigma * eps); DPM-Solver's are
                // variance-preserving already.
                signal = kind == .dpmSolverMultistep ? sample : sample.map { $0 * alpha }
            }
            let x0 = zip(signal, eps).map { ($0 - sigmaT * $1) / alpha }
            let output: [Float]
            switch type {
            case "sample": output = x0
            case "v_prediction": output = zip(eps, x0).map { alpha * $0 - sigmaT * $1 }
            default: output = eps
            }
            sample = try scheduler.step(modelOutput: output, timestep: t, sample: sample, noise: noise).prevSample
            all += sample
        }
        return all
    }
}
