// diffusers' three timestep spacings (linspace, leading, trailing) and shared config checks.
import Foundation
import TensorCore

extension TimestepSpacing {
    static func checkCount(_ n: Int, config: SchedulerConfig, scheduler: String) throws {
        guard n >= 1, n <= config.numTrainTimesteps else {
            throw SchedulerError.invalidValue(scheduler: scheduler, field: "num_inference_steps", value: "\(n)",
                                              reason: "must be in 1...\(config.numTrainTimesteps) (num_train_timesteps)")
        }
    }

    /// Descending timesteps; `roundLinspace` rounds the linspace spacing to integers
    /// (DDPM/DDIM) instead of keeping float32 values (Euler, LMS, Heun).
    static func timesteps(count n: Int, config: SchedulerConfig, scheduler: String, roundLinspace: Bool) throws -> [Double] {
        try checkCount(n, config: config, scheduler: scheduler)
        let trainSteps = config.numTrainTimesteps
        switch config.timestepSpacing {
        case .linspace:
            let values = NumpyCompat.linspace(0, Double(trainSteps - 1), n)
            return values.reversed().map { roundLinspace ? NumpyCompat.round($0) : Double(Float($0)) }
        case .leading:
            let ratio = trainSteps / n
            return (0..<n).reversed().map { Double($0 * ratio + config.stepsOffset) }
        case .trailing:
            return trailing(count: n, from: trainSteps, trainSteps: trainSteps)
        }
    }

    /// round(arange(last, 0, -trainSteps / n)) - 1.
    static func trailing(count n: Int, from last: Int, trainSteps: Int) -> [Double] {
        let ratio = Double(trainSteps) / Double(n)
        return NumpyCompat.arange(Double(last), 0, -ratio).map { NumpyCompat.round($0) - 1 }
    }
}

enum ConfigCheck {
    static func oneOf(_ value: String, _ allowed: [String], field: String, scheduler: String) throws {
        guard allowed.contains(value) else {
            throw SchedulerError.unsupported(scheduler: scheduler, field: field, value: value, supported: allowed)
        }
    }

    static func oneOf(_ value: PredictionType, _ allowed: [PredictionType], scheduler: String) throws {
        try oneOf(value.rawValue, allowed.map(\.rawValue), field: "prediction_type", scheduler: scheduler)
    }

    /// A boolean feature this implementation does not provide must be off.
    static func off(_ value: Bool, field: String, scheduler: String) throws {
        if value { throw SchedulerError.unsupported(scheduler: scheduler, field: field, value: "true", supported: ["false"]) }
    }

    /// clip_sample: clamp x0 to [-range, range].
    static func clipped(_ x: Tensor, config c: SchedulerConfig) -> Tensor {
        guard c.clipSample else { return x }
        let r = Float(c.clipSampleRange)
        return x.clamped(-r, r)
    }
}
