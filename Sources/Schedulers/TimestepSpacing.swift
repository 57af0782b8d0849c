// diffusers' three timestep spacings (linspace, leading, trailing) and shared validation.
import Foundation

enum TimestepSpacing {
    static let supported = ["linspace", "leading", "trailing"]

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
        case "linspace":
            let values = NumpyCompat.linspace(0, Double(trainSteps - 1), n)
            return values.reversed().map { roundLinspace ? NumpyCompat.round($0) : Double(Float($0)) }
        case "leading":
            let ratio = trainSteps / n
            return (0..<n).reversed().map { Double($0 * ratio + config.stepsOffset) }
        case "trailing":
            return trailing(count: n, from: trainSteps, trainSteps: trainSteps)
        default:
            throw SchedulerError.unsupported(scheduler: scheduler, field: "timestep_spacing", value: config.timestepSpacing, supported: supported)
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

    /// A boolean feature this implementation does not provide must be off.
    static func off(_ value: Bool, field: String, scheduler: String) throws {
        if value { throw SchedulerError.unsupported(scheduler: scheduler, field: field, value: "true", supported: ["false"]) }
    }

    /// Checks shared by the alpha-based schedulers (DDPM, DDIM, PNDM, LCM).
    static func alphaBased(_ c: SchedulerConfig, scheduler: String, predictionTypes: [String] = ["epsilon", "v_prediction", "sample"]) throws {
        try oneOf(c.predictionType, predictionTypes, field: "prediction_type", scheduler: scheduler)
        try oneOf(c.timestepSpacing, TimestepSpacing.supported, field: "timestep_spacing", scheduler: scheduler)
        try off(c.thresholding, field: "thresholding", scheduler: scheduler)
    }

    /// Checks shared by the sigma-based schedulers (Euler, Euler ancestral, LMS, Heun, DPM-Solver).
    static func sigmaBased(_ c: SchedulerConfig, scheduler: String, predictionTypes: [String] = ["epsilon", "v_prediction", "sample"]) throws {
        try oneOf(c.predictionType, predictionTypes, field: "prediction_type", scheduler: scheduler)
        try oneOf(c.timestepSpacing, TimestepSpacing.supported, field: "timestep_spacing", scheduler: scheduler)
        try off(c.useExponentialSigmas, field: "use_exponential_sigmas", scheduler: scheduler)
        try off(c.useBetaSigmas, field: "use_beta_sigmas", scheduler: scheduler)
    }

    /// clip_sample: clamp x0 to [-range, range].
    static func clipped(_ x: [Float], config c: SchedulerConfig) -> [Float] {
        guard c.clipSample else { return x }
        let r = Float(c.clipSampleRange)
        return x.map { min(max($0, -r), r) }
    }
}
