// Latent consistency model multistep sampler; matches diffusers LCMScheduler.

public struct LCMScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    public var sigmas: [Float]? { nil }
    public var initNoiseSigma: Float { 1 }
    public var order: Int { 1 }
    let finalAlphaCumprod: Float
    var cursor = StepCursor()
    static let name = "LCMScheduler"

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .lcm)
        try ConfigCheck.alphaBased(c, scheduler: Self.name)
        guard c.originalInferenceSteps >= 1, c.originalInferenceSteps <= c.numTrainTimesteps else {
            throw SchedulerError.invalidValue(scheduler: Self.name, field: "original_inference_steps", value: "\(c.originalInferenceSteps)",
                                              reason: "must be in 1...\(c.numTrainTimesteps) (num_train_timesteps)")
        }
        self.config = c
        noiseSchedule = try NoiseSchedule(config: c, scheduler: Self.name)
        finalAlphaCumprod = c.setAlphaToOne ? 1 : noiseSchedule.alphasCumprod[0]
    }

    /// `count` timesteps taken evenly from the `original_inference_steps` skipping-step
    /// schedule the model was distilled on (k, 2k, ... minus one).
    public mutating func setTimesteps(_ count: Int) throws {
        let original = config.originalInferenceSteps
        let k = config.numTrainTimesteps / original
        let origin = (1...original).map { $0 * k - 1 }.reversed().map(Double.init)
        guard count >= 1, count <= original, origin.count / count >= 1 else {
            throw SchedulerError.invalidValue(scheduler: Self.name, field: "num_inference_steps", value: "\(count)",
                                              reason: "must be in 1...\(original) (original_inference_steps)")
        }
        let indices = NumpyCompat.linspace(0, Double(origin.count), count, endpoint: false).map { Int($0.rounded(.down)) }
        timesteps = indices.map { origin[$0] }
        cursor.reset()
    }

    public mutating func setBeginIndex(_ index: Int) { cursor.beginIndex = index }

    public func scaleModelInput(_ sample: [Float], timestep: Double) throws -> [Float] { sample }

    public mutating func step(modelOutput: [Float], timestep t: Double, sample: [Float], noise: NoiseSource) throws -> SchedulerStep {
        guard !timesteps.isEmpty else { throw SchedulerError.timestepsNotSet(scheduler: Self.name) }
        try checkSameCount(sample, modelOutput, scheduler: Self.name, what: "model output")
        let index = try cursor.begin(for: t, in: timesteps, scheduler: Self.name)
        let prevT = index + 1 < timesteps.count ? timesteps[index + 1] : t
        let alphaProd = try noiseSchedule.alphaCumprod(at: t, scheduler: Self.name)
        let alphaProdPrev = prevT >= 0 ? try noiseSchedule.alphaCumprod(at: prevT, scheduler: Self.name) : finalAlphaCumprod
        let betaProdPrev = 1 - alphaProdPrev

        // Consistency-model boundary condition with sigma_data = 0.5.
        let scaled = Float(t) * Float(config.timestepScaling)
        let sigmaData2: Float = 0.25
        let cSkip = sigmaData2 / (scaled * scaled + sigmaData2)
        let cOut = scaled / (scaled * scaled + sigmaData2).squareRoot()

        var x0 = AlphaPrediction.original(config.predictionType, sample: sample, modelOutput: modelOutput, alphaProd: alphaProd)
        x0 = ConfigCheck.clipped(x0, config: config)
        let denoised = zip(x0, sample).map { cOut * $0 + cSkip * $1 }

        var prev = denoised
        if index != timesteps.count - 1 {
            let drawn = try noise(sample.count, scheduler: Self.name)
            let a = alphaProdPrev.squareRoot(), b = betaProdPrev.squareRoot()
            prev = zip(denoised, drawn).map { a * $0 + b * $1 }
        }
        cursor.stepIndex = index + 1
        return SchedulerStep(prevSample: prev, predOriginalSample: denoised)
    }

    public func addNoise(original: [Float], noise: [Float], timestep: Double) throws -> [Float] {
        try noiseSchedule.addNoise(original: original, noise: noise, timestep: timestep, scheduler: Self.name)
    }
}
