// DDPM ancestral sampler; matches diffusers DDPMScheduler.
import Foundation

public struct DDPMScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    public var sigmas: [Float]? { nil }
    public var initNoiseSigma: Float { 1 }
    public var order: Int { 1 }
    static let name = "DDPMScheduler"

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .ddpm)
        try ConfigCheck.alphaBased(c, scheduler: Self.name)
        try ConfigCheck.oneOf(c.varianceType ?? "fixed_small", ["fixed_small", "fixed_small_log", "fixed_large"],
                              field: "variance_type", scheduler: Self.name)
        self.config = c
        noiseSchedule = try NoiseSchedule(config: c, scheduler: Self.name)
    }

    public mutating func setTimesteps(_ count: Int) throws {
        timesteps = try TimestepSpacing.timesteps(count: count, config: config, scheduler: Self.name, roundLinspace: true)
    }

    public mutating func setBeginIndex(_ index: Int) {}

    public func scaleModelInput(_ sample: [Float], timestep: Double) throws -> [Float] { sample }

    /// The timestep after `t` in the schedule (-1 after the last).
    func previousTimestep(_ t: Double) throws -> Double {
        guard let index = timesteps.firstIndex(of: t) else {
            throw SchedulerError.timestepNotInSchedule(scheduler: Self.name, timestep: t)
        }
        return index == timesteps.count - 1 ? -1 : timesteps[index + 1]
    }

    public mutating func step(modelOutput: [Float], timestep t: Double, sample: [Float], noise: NoiseSource) throws -> SchedulerStep {
        guard !timesteps.isEmpty else { throw SchedulerError.timestepsNotSet(scheduler: Self.name) }
        try checkSameCount(sample, modelOutput, scheduler: Self.name, what: "model output")
        let prevT = try previousTimestep(t)
        let alphaProd = try noiseSchedule.alphaCumprod(at: t, scheduler: Self.name)
        let alphaProdPrev: Float = prevT >= 0 ? try noiseSchedule.alphaCumprod(at: prevT, scheduler: Self.name) : 1
        let betaProd = 1 - alphaProd, betaProdPrev = 1 - alphaProdPrev
        let currentAlpha = alphaProd / alphaProdPrev
        let currentBeta = 1 - currentAlpha

        var x0 = AlphaPrediction.original(config.predictionType, sample: sample, modelOutput: modelOutput, alphaProd: alphaProd)
        x0 = ConfigCheck.clipped(x0, config: config)

        // Posterior mean of q(x_{t-1} | x_t, x0) (formula 7 of Ho et al. 2020).
        let originalCoeff = (alphaProdPrev.squareRoot() * currentBeta) / betaProd
        let sampleCoeff = currentAlpha.squareRoot() * betaProdPrev / betaProd
        var prev = zip(x0, sample).map { originalCoeff * $0 + sampleCoeff * $1 }

        if t > 0 {
            let drawn = try noise(sample.count, scheduler: Self.name)
            let variance = max(betaProdPrev / betaProd * currentBeta, 1e-20)
            let std: Float
            switch config.varianceType ?? "fixed_small" {
            case "fixed_small_log": std = (0.5 * variance.logarithm).exponential
            case "fixed_large": std = currentBeta.squareRoot()
            default: std = variance.squareRoot()
            }
            for i in prev.indices { prev[i] = prev[i] + std * drawn[i] }
        }
        return SchedulerStep(prevSample: prev, predOriginalSample: x0)
    }

    public func addNoise(original: [Float], noise: [Float], timestep: Double) throws -> [Float] {
        try noiseSchedule.addNoise(original: original, noise: noise, timestep: timestep, scheduler: Self.name)
    }
}

private extension Float {
    var logarithm: Float { Float(Foundation.log(Double(self))) }
    var exponential: Float { Float(Foundation.exp(Double(self))) }
}
