// Matches diffusers LCMScheduler: the latent consistency model multistep sampler.
import TensorCore

public struct LCMScheduler: AlphaScheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    public let finalAlphaCumprod: Float
    /// diffusers' `_step_index`/`_begin_index`.
    var stepIndex: Int?
    var beginIndex: Int?

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .lcm)
        try Self.check(c)
        guard c.originalInferenceSteps >= 1, c.originalInferenceSteps <= c.numTrainTimesteps else {
            throw SchedulerError.invalidValue(scheduler: "LCMScheduler", field: "original_inference_steps", value: "\(c.originalInferenceSteps)",
                                              reason: "must be in 1...\(c.numTrainTimesteps) (num_train_timesteps)")
        }
        self.config = c
        noiseSchedule = try NoiseSchedule(config: c, scheduler: "LCMScheduler")
        finalAlphaCumprod = Self.finalAlphaCumprod(c, schedule: noiseSchedule)
    }

    /// `count` timesteps taken evenly from the `original_inference_steps` skipping-step
    /// schedule the model was distilled on (k, 2k, ... minus one).
    public mutating func setTimesteps(_ count: Int) throws {
        let original = config.originalInferenceSteps
        let k = config.numTrainTimesteps / original
        let origin = (1...original).map { $0 * k - 1 }.reversed().map(Double.init)
        guard count >= 1, count <= original, origin.count / count >= 1 else {
            throw SchedulerError.invalidValue(scheduler: schedulerName, field: "num_inference_steps", value: "\(count)",
                                              reason: "must be in 1...\(original) (original_inference_steps)")
        }
        let indices = NumpyCompat.linspace(0, Double(origin.count), count, endpoint: false).map { Int($0.rounded(.down)) }
        timesteps = indices.map { origin[$0] }
        stepIndex = nil
        beginIndex = nil
    }

    public mutating func setBeginIndex(_ index: Int) { beginIndex = index }

    /// The step index of `t`: the running index, the begin index, or t's (second) position.
    func currentIndex(for t: Double) throws -> Int {
        if let index = stepIndex ?? beginIndex { return index }
        let matches = timesteps.indices.filter { timesteps[$0] == t }
        guard let first = matches.first else { throw SchedulerError.timestepNotInSchedule(scheduler: schedulerName, timestep: t) }
        return matches.count > 1 ? matches[1] : first
    }

    /// The consistency-model boundary condition (sigma_data = 0.5) on x̂₀, then fresh noise
    /// to the next timestep's level (none after the last).
    public mutating func step(modelOutput: Tensor, timestep t: Double, sample: Tensor, noise: NoiseSource) throws -> SchedulerStep {
        guard !timesteps.isEmpty else { throw SchedulerError.timestepsNotSet(scheduler: schedulerName) }
        try checkStep(modelOutput: modelOutput, sample: sample, scheduler: schedulerName)
        let index = try currentIndex(for: t)
        let prevT = index + 1 < timesteps.count ? timesteps[index + 1] : t
        let alphaProd = try self.alphaProd(at: t)
        let next = try level(at: prevT)

        let scaled = Float(t) * Float(config.timestepScaling)
        let sigmaData2: Float = 0.25
        let cSkip = sigmaData2 / (scaled * scaled + sigmaData2)
        let cOut = scaled / (scaled * scaled + sigmaData2).squareRoot()

        let x0 = ConfigCheck.clipped(config.predictionType.original(modelOutput: modelOutput, sample: sample,
                                                                     level: NoiseLevel(alphaProd: alphaProd)), config: config)
        let denoised = x0 * cOut + sample * cSkip  // [N, C, H, W]
        var prev = denoised
        if index != timesteps.count - 1 {
            prev = denoised * next.signal + (try noise(like: sample, scheduler: schedulerName)) * next.noise
        }
        stepIndex = index + 1
        return SchedulerStep(prevSample: prev, predOriginalSample: denoised)
    }
}
