// Matches diffusers DDPMScheduler: the ancestral sampler of Ho et al. (2020).
import Foundation
import TensorCore

public struct DDPMScheduler: AlphaScheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    /// DDPM's last step lands on ᾱ = 1.
    public var finalAlphaCumprod: Float { 1 }

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .ddpm)
        try Self.check(c)
        try ConfigCheck.oneOf(c.varianceType ?? "fixed_small", ["fixed_small", "fixed_small_log", "fixed_large"],
                              field: "variance_type", scheduler: "DDPMScheduler")
        self.config = c
        noiseSchedule = try NoiseSchedule(config: c, scheduler: "DDPMScheduler")
    }

    public mutating func setTimesteps(_ count: Int) throws {
        timesteps = try TimestepSpacing.timesteps(count: count, config: config, scheduler: schedulerName, roundLinspace: true)
    }

    /// The timestep after `t` in the schedule (-1 after the last).
    func previousTimestep(_ t: Double) throws -> Double {
        guard let index = timesteps.firstIndex(of: t) else {
            throw SchedulerError.timestepNotInSchedule(scheduler: schedulerName, timestep: t)
        }
        return index == timesteps.count - 1 ? -1 : timesteps[index + 1]
    }

    /// The posterior mean of q(x_{t-1} | x_t, x̂₀) (formula 7 of Ho et al. 2020) plus noise.
    public mutating func step(modelOutput: Tensor, timestep t: Double, sample: Tensor, noise: NoiseSource) throws -> SchedulerStep {
        guard !timesteps.isEmpty else { throw SchedulerError.timestepsNotSet(scheduler: schedulerName) }
        try checkStep(modelOutput: modelOutput, sample: sample, scheduler: schedulerName)
        let alphaProd = try self.alphaProd(at: t)
        let alphaProdPrev = try self.alphaProd(at: previousTimestep(t))
        let betaProd = 1 - alphaProd, betaProdPrev = 1 - alphaProdPrev
        let currentAlpha = alphaProd / alphaProdPrev
        let currentBeta = 1 - currentAlpha

        let x0 = ConfigCheck.clipped(config.predictionType.original(modelOutput: modelOutput, sample: sample,
                                                                     level: NoiseLevel(alphaProd: alphaProd)), config: config)
        let originalCoeff = (alphaProdPrev.squareRoot() * currentBeta) / betaProd
        let sampleCoeff = currentAlpha.squareRoot() * betaProdPrev / betaProd
        var prev = x0 * originalCoeff + sample * sampleCoeff  // [N, C, H, W]
        if t > 0 {
            let drawn = try noise(like: sample, scheduler: schedulerName)
            let variance = max(betaProdPrev / betaProd * currentBeta, 1e-20)
            let std: Float
            switch config.varianceType ?? "fixed_small" {
            case "fixed_small_log": std = Float(Foundation.exp(Double(0.5 * Float(Foundation.log(Double(variance))))))  // float32 as diffusers
            case "fixed_large": std = currentBeta.squareRoot()
            default: std = variance.squareRoot()
            }
            prev = prev + drawn * std
        }
        return SchedulerStep(prevSample: prev, predOriginalSample: x0)
    }
}
