// Ancestral Euler sampler (k-diffusion sample_euler_ancestral); matches diffusers EulerAncestralDiscreteScheduler.

public struct EulerAncestralDiscreteScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    public var sigmas: [Float]? { sigmaTable }
    public private(set) var initNoiseSigma: Float
    public var order: Int { 1 }
    var sigmaTable: [Float]
    var cursor = StepCursor()
    static let name = "EulerAncestralDiscreteScheduler"

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .eulerAncestral)
        // Like diffusers, this class has no sigma-spacing options (Karras etc.) and ignores them.
        try ConfigCheck.oneOf(c.predictionType, ["epsilon", "v_prediction"], field: "prediction_type", scheduler: Self.name)
        try ConfigCheck.oneOf(c.timestepSpacing, TimestepSpacing.supported, field: "timestep_spacing", scheduler: Self.name)
        self.config = c
        noiseSchedule = try NoiseSchedule(config: c, scheduler: Self.name)
        sigmaTable = noiseSchedule.trainingSigmas.reversed() + [0]
        timesteps = (0..<c.numTrainTimesteps).reversed().map(Double.init)
        initNoiseSigma = SigmaPrediction.initNoiseSigma(sigmaTable, spacing: c.timestepSpacing)
    }

    public mutating func setTimesteps(_ count: Int) throws {
        var linear = config
        linear.interpolationType = "linear"
        (linear.sigmaMin, linear.sigmaMax) = (nil, nil)  // not options of this class
        linear.useKarrasSigmas = false
        let tables = try SigmaSchedule.tables(count: count, config: linear, schedule: noiseSchedule, scheduler: Self.name)
        sigmaTable = (tables.sigmas + [0]).map { Float($0) }
        timesteps = tables.timesteps
        initNoiseSigma = SigmaPrediction.initNoiseSigma(sigmaTable, spacing: config.timestepSpacing)
        cursor.reset()
    }

    public mutating func setBeginIndex(_ index: Int) { cursor.beginIndex = index }

    public func scaleModelInput(_ sample: [Float], timestep: Double) throws -> [Float] {
        let index = try cursor.current(for: timestep, in: timesteps, scheduler: Self.name)
        return SigmaPrediction.scaled(sample, sigma: try SigmaSchedule.sigma(sigmaTable, at: index, scheduler: Self.name))
    }

    /// An Euler step down to sigma_down, then fresh noise of size sigma_up (drawn every step,
    /// the last one included, as diffusers does).
    public mutating func step(modelOutput: [Float], timestep: Double, sample: [Float], noise: NoiseSource) throws -> SchedulerStep {
        try checkSameCount(sample, modelOutput, scheduler: Self.name, what: "model output")
        let index = try cursor.begin(for: timestep, in: timesteps, scheduler: Self.name)
        let sigma = try SigmaSchedule.sigma(sigmaTable, at: index, scheduler: Self.name)
        let sigmaTo = try SigmaSchedule.sigma(sigmaTable, at: index + 1, scheduler: Self.name)
        let x0 = SigmaPrediction.original(config.predictionType, sample: sample, modelOutput: modelOutput, sigma: sigma)
        let sigmaUp = (sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo) / (sigma * sigma)).squareRoot()
        let sigmaDown = (sigmaTo * sigmaTo - sigmaUp * sigmaUp).squareRoot()
        let dt = sigmaDown - sigma
        var prev = zip(sample, x0).map { s, x in s + ((s - x) / sigma) * dt }
        let drawn = try noise(sample.count, scheduler: Self.name)
        for i in prev.indices { prev[i] = prev[i] + drawn[i] * sigmaUp }
        cursor.stepIndex = index + 1
        return SchedulerStep(prevSample: prev, predOriginalSample: x0)
    }

    public func addNoise(original: [Float], noise: [Float], timestep: Double) throws -> [Float] {
        let sigma = try SigmaSchedule.addNoiseSigma(sigmaTable, timesteps: timesteps, cursor: cursor, timestep: timestep, scheduler: Self.name)
        return try SigmaSchedule.addNoise(original: original, noise: noise, sigma: sigma, scheduler: Self.name)
    }
}
