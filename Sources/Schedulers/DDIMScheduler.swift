// DDIM sampler; matches diffusers DDIMScheduler.

public struct DDIMScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    public var sigmas: [Float]? { nil }
    public var initNoiseSigma: Float { 1 }
    public var order: Int { 1 }
    /// Weight of the injected noise (0: deterministic DDIM, 1: DDPM-like); diffusers' `eta`.
    public var eta: Float = 0
    /// Recompute epsilon from the clipped x0 (diffusers' `use_clipped_model_output`).
    public var useClippedModelOutput = false
    /// alphas_cumprod "before" t = 0: 1 with set_alpha_to_one, else alphas_cumprod[0].
    let finalAlphaCumprod: Float
    static let name = "DDIMScheduler"

    public init(config: SchedulerConfig, eta: Float = 0) throws {
        let c = config.applyingDefaults(of: .ddim)
        try ConfigCheck.alphaBased(c, scheduler: Self.name)
        self.config = c
        self.eta = eta
        noiseSchedule = try NoiseSchedule(config: c, scheduler: Self.name)
        finalAlphaCumprod = c.setAlphaToOne ? 1 : noiseSchedule.alphasCumprod[0]
    }

    /// Set by `setTimesteps(descending:)`: each step then goes to the next listed timestep.
    private var explicitTimesteps = false

    public mutating func setTimesteps(_ count: Int) throws {
        timesteps = try TimestepSpacing.timesteps(count: count, config: config, scheduler: Self.name, roundLinspace: true)
        explicitTimesteps = false
    }

    /// Uses the given strictly decreasing training timesteps (e.g. `T` down to 0 for
    /// denoising from a chosen step); the last step lands on the clean sample.
    public mutating func setTimesteps(descending list: [Double]) throws {
        let limit = Double(config.numTrainTimesteps)
        guard !list.isEmpty, list.allSatisfy({ $0 >= 0 && $0 < limit && $0 == $0.rounded() }),
              zip(list, list.dropFirst()).allSatisfy({ $0 > $1 }) else {
            throw SchedulerError.invalidValue(scheduler: Self.name, field: "timesteps", value: "\(list)",
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

    public mutating func setBeginIndex(_ index: Int) {}

    public func scaleModelInput(_ sample: [Float], timestep: Double) throws -> [Float] { sample }

    public mutating func step(modelOutput: [Float], timestep t: Double, sample: [Float], noise: NoiseSource) throws -> SchedulerStep {
        guard !timesteps.isEmpty else { throw SchedulerError.timestepsNotSet(scheduler: Self.name) }
        try checkSameCount(sample, modelOutput, scheduler: Self.name, what: "model output")
        let prevT = previousTimestep(t)
        let alphaProd = try noiseSchedule.alphaCumprod(at: t, scheduler: Self.name)
        let alphaProdPrev = prevT >= 0 ? try noiseSchedule.alphaCumprod(at: prevT, scheduler: Self.name) : finalAlphaCumprod
        let betaProd = 1 - alphaProd, betaProdPrev = 1 - alphaProdPrev

        let type = config.predictionType
        var x0 = AlphaPrediction.original(type, sample: sample, modelOutput: modelOutput, alphaProd: alphaProd)
        var epsilon = AlphaPrediction.epsilon(type, sample: sample, modelOutput: modelOutput, original: x0, alphaProd: alphaProd)
        x0 = ConfigCheck.clipped(x0, config: config)

        // Formula 12 of Song et al. (2020), with sigma_t = eta * sqrt(variance).
        let variance = (betaProdPrev / betaProd) * (1 - alphaProd / alphaProdPrev)
        let std = eta * variance.squareRoot()
        if useClippedModelOutput {
            let a = alphaProd.squareRoot(), b = betaProd.squareRoot()
            epsilon = zip(sample, x0).map { ($0 - a * $1) / b }
        }
        let directionCoeff = (1 - alphaProdPrev - std * std).squareRoot()
        let x0Coeff = alphaProdPrev.squareRoot()
        var prev = zip(x0, epsilon).map { x0Coeff * $0 + directionCoeff * $1 }
        if eta > 0 {
            let drawn = try noise(sample.count, scheduler: Self.name)
            for i in prev.indices { prev[i] = prev[i] + std * drawn[i] }
        }
        return SchedulerStep(prevSample: prev, predOriginalSample: x0)
    }

    public func addNoise(original: [Float], noise: [Float], timestep: Double) throws -> [Float] {
        try noiseSchedule.addNoise(original: original, noise: noise, timestep: timestep, scheduler: Self.name)
    }
}
