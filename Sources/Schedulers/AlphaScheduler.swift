// What the alphas_cumprod-based schedulers (DDPM, DDIM, PNDM, LCM) share.
import TensorCore

/// A scheduler on the variance-preserving x_t = √ᾱ·x₀ + √(1−ᾱ)·ε: unit initial noise,
/// unscaled model input, `add_noise` from alphas_cumprod, no sigma table.
public protocol AlphaScheduler: Scheduler {
    /// ᾱ "before" t = 0: 1 with set_alpha_to_one, else alphas_cumprod[0].
    var finalAlphaCumprod: Float { get }
}

extension AlphaScheduler {
    public var sigmas: [Float]? { nil }
    public var initNoiseSigma: Float { 1 }
    public var order: Int { 1 }
    public mutating func setBeginIndex(_ index: Int) {}
    public func scaleModelInput(_ sample: Tensor, timestep: Double) throws -> Tensor { sample }

    public func addNoise(original: Tensor, noise: Tensor, timestep: Double) throws -> Tensor {
        try noiseSchedule.addNoise(original: original, noise: noise, timestep: timestep, scheduler: schedulerName)
    }

    var schedulerName: String { config.className ?? "\(Self.self)" }

    /// The noise level of training timestep t; t < 0 is the final level.
    func level(at t: Double) throws -> NoiseLevel {
        t >= 0 ? try noiseSchedule.noiseLevel(at: t, scheduler: schedulerName) : NoiseLevel(alphaProd: finalAlphaCumprod)
    }

    /// ᾱ of training timestep t; t < 0 is the final ᾱ.
    func alphaProd(at t: Double) throws -> Float {
        t >= 0 ? try noiseSchedule.alphaCumprod(at: t, scheduler: schedulerName) : finalAlphaCumprod
    }

    /// The config checks these classes share: a supported prediction type, no dynamic thresholding.
    static func check(_ c: SchedulerConfig, predictionTypes: [PredictionType] = PredictionType.allCases) throws {
        let name = "\(Self.self)"
        try ConfigCheck.oneOf(c.predictionType, predictionTypes, scheduler: name)
        try ConfigCheck.off(c.thresholding, field: "thresholding", scheduler: name)
    }

    /// ᾱ before t = 0 for a config (set_alpha_to_one).
    static func finalAlphaCumprod(_ c: SchedulerConfig, schedule: NoiseSchedule) -> Float {
        c.setAlphaToOne ? 1 : schedule.alphasCumprod[0]
    }
}
