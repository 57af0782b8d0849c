// The "sample" and "v_prediction" branches against the fixture-checked epsilon branch.
import Foundation
import XCTest
import TensorCore
import TestSupport
@testable import Schedulers

/// A model that predicts epsilon, re-expressed as x0 or v, must drive every scheduler along
/// the same trajectory as the epsilon model: x0 = (x_vp - sigma_t * eps) / alpha_t and
/// v = alpha_t * eps - sigma_t * x0, with (alpha_t, sigma_t) the step's signal and noise scales.
final class PredictionTypeTests: XCTestCase {
    func testSampleAndVPredictionFollowTheEpsilonTrajectory() throws {
        let base = try SchedulerFixture.get().config()
        let cases: [(SchedulerKind, [PredictionType])] = [
            (.ddpm, [.sample, .vPrediction]), (.ddim, [.sample, .vPrediction]), (.lcm, [.sample, .vPrediction]),
            (.euler, [.sample, .vPrediction]), (.eulerAncestral, [.vPrediction]), (.lms, [.sample, .vPrediction]),
            (.heun, [.sample, .vPrediction]), (.dpmSolverMultistep, [.sample, .vPrediction]),
        ]
        for (kind, types) in cases {
            let reference = try trajectory(kind, base, as: .epsilon)
            for type in types {
                let other = try trajectory(kind, base, as: type)
                assertClose(other, reference, relative: 1e-4, "\(kind.className) \(type)")
            }
        }
    }

    /// Runs 8 steps of the test model, expressed in `type`, and returns all samples.
    func trajectory(_ kind: SchedulerKind, _ base: SchedulerConfig, as type: PredictionType) throws -> [Float] {
        var scheduler = try kind.make(config: base.setting({ $0.predictionType = type }, keys: ["prediction_type"]))
        try scheduler.setTimesteps(8)
        let alphaBased = [.ddpm, .ddim, .lcm].contains(kind)
        let shape = [1, 4, 4, 4]
        var sample = try Tensor(shape: shape, values: (0..<64).map { Float(sin(Double($0) * 0.7)) }) * scheduler.initNoiseSigma
        var all = sample.values
        var draws = 0
        let noise = NoiseSource { shape in
            draws += 1
            return try Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { Float(cos(Double($0 + 31 * draws))) })
        }
        for (i, t) in scheduler.timesteps.enumerated() {
            let input = try scheduler.scaleModelInput(sample, timestep: t)
            let eps = input * 0.1 + Float(0.05 * sin(Double(i)))
            let level: NoiseLevel, signal: Tensor
            if alphaBased {
                level = NoiseLevel(alphaProd: scheduler.noiseSchedule.alphasCumprod[Int(t)])
                signal = sample
            } else {
                let s = scheduler.sigmas?[i] ?? .nan
                let alpha = 1 / (s * s + 1).squareRoot()
                level = NoiseLevel(signal: alpha, noise: s * alpha)
                // Euler-type samples are variance-exploding (x0 + sigma * eps); DPM-Solver's are
                // variance-preserving already.
                signal = kind == .dpmSolverMultistep ? sample : sample * alpha
            }
            let x0 = PredictionType.epsilon.original(modelOutput: eps, sample: signal, level: level)
            let output: Tensor
            switch type {
            case .sample: output = x0
            case .vPrediction: output = eps * level.signal - x0 * level.noise
            case .epsilon: output = eps
            }
            sample = try scheduler.step(modelOutput: output, timestep: t, sample: sample, noise: noise).prevSample
            all += sample.values
        }
        return all
    }
}
