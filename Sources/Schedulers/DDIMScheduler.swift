// Matches diffusers DDIMScheduler: denoising diffusion implicit models (Song et al. 2020).
import TensorCore

public struct DDIMScheduler: AlphaScheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    /// Weight of the injected noise (0: deterministic DDIM, 1: DDPM-like); diffusers' `eta`.
    public var eta: Float = 0
    /// Recompute epsilon from the clipped x0 (diffusers' `use_clipped_model_output`).
    public var useClippedModelOutput = false
    public let finalAlphaCumprod: Float
    /// Set by `setTimesteps(descending:)`: each step then goes to the next listed timestep.
    private var explicitTimesteps = false

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .ddim)
        try Self.check(c)
        self.config = c
        noiseSchedule = try NoiseSchedule(config: c, scheduler: "DDIMScheduler")
        finalAlphaCumprod = Self.finalAlphaCumprod(c, schedule: noiseSchedule)
    }

    public init(config: SchedulerConfig, eta: Float) throws {
        try self.init(config: config)
        self.eta = eta
    }

    public mutating func setTimesteps(_ count: Int) throws {
        timesteps = try TimestepSpacing.timesteps(count: count, config: config, scheduler: schedulerName, roundLinspace: true)
        explicitTimesteps = false
    }

    /// Uses the given strictly decreasing training timesteps (e.g. `T` down to 0 for
    /// denoising from a chosen step); the last step lands on the clean sample.
    public mutating func setTimesteps(descending list: [Double]) throws {
        let limit = Double(config.numTrainTimesteps)
        guard !list.isEmpty, list.allSatisfy({ $0 >= 0 && $0 < limit && $0 == $0.rounded() }),
              zip(list, list.dropFirst()).allSatisfy({ $0 > $1 }) else {
            throw SchedulerError.invalidValue(scheduler: schedulerName, field: "timesteps", value: "\(list)",
                                              reason: "must be strictly decreasing whole numbers in [0, \(config.numTrainTimesteps))")
        }
        timesteps = list
        explicitTimesteps = true
    }

    private func previousTimestep(_ t: Double) -> Double {
        guard explicitTimesteps else { return t - Double(config.numTrainTimesteps / timesteps.count) }
        guard let i = timesteps.firstIndex(of: t), i + 1 < timesteps.count else { return -1 }
        return timesteps[i + 1]
    }

    /// Formula 12 of Song et al. (2020), with sigma_t = eta · sqrt(variance).
    public mutating func step(modelOutput: Tensor, timestep t: Double, sample: Tensor, noise: NoiseSource) throws -> SchedulerStep {
        guard !timesteps.isEmpty else { throw SchedulerError.timestepsNotSet(scheduler: schedulerName) }
        try checkStep(modelOutput: modelOutput, sample: sample, scheduler: schedulerName)
        let alphaProd = try self.alphaProd(at: t)
        let alphaProdPrev = try self.alphaProd(at: previousTimestep(t))
        let level = NoiseLevel(alphaProd: alphaProd)
        let type = config.predictionType
        let unclipped = type.original(modelOutput: modelOutput, sample: sample, level: level)  // [N, C, H, W]
        var epsilon = type.epsilon(modelOutput: modelOutput, sample: sample, original: unclipped, level: level)
        let x0 = ConfigCheck.clipped(unclipped, config: config)
        let variance = ((1 - alphaProdPrev) / (1 - alphaProd)) * (1 - alphaProd / alphaProdPrev)
        let std = eta * variance.squareRoot()
        if useClippedModelOutput {
            epsilon = PredictionType.sample.epsilon(modelOutput: x0, sample: sample, original: x0, level: level)
        }
        var prev = x0 * alphaProdPrev.squareRoot() + epsilon * (1 - alphaProdPrev - std * std).squareRoot()
        if eta > 0 {
            prev = prev + (try noise(like: sample, scheduler: schedulerName)) * std
        }
        return SchedulerStep(prevSample: prev, predOriginalSample: x0)
    }
}
