// Heun's second-order method (Algorithm 2 of Karras et al. 2022); matches diffusers HeunDiscreteScheduler.

public struct HeunDiscreteScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    public var sigmas: [Float]? { sigmaTable }
    public private(set) var initNoiseSigma: Float
    /// Two model calls per step: every timestep after the first appears twice.
    public var order: Int { 2 }
    var sigmaTable: [Float]
    var cursor = StepCursor()
    /// State between the predictor (first-order) and corrector calls.
    var previousDerivative: [Float]?
    var savedDt: Float?
    var savedSample: [Float]?
    static let name = "HeunDiscreteScheduler"

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .heun)
        try ConfigCheck.sigmaBased(c, scheduler: Self.name)
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
        let tables = try SigmaSchedule.tables(count: count, config: linear, schedule: noiseSchedule, scheduler: Self.name)
        let base = (tables.sigmas + [0]).map { Float($0) }
        // [s0, s1, s1, ..., s_{n-1}, s_{n-1}, 0] and [t0, t1, t1, ..., t_{n-1}, t_{n-1}].
        sigmaTable = [base[0]] + base.dropFirst().dropLast().flatMap { [$0, $0] } + [base[base.count - 1]]
        timesteps = [tables.timesteps[0]] + tables.timesteps.dropFirst().flatMap { [$0, $0] }
        initNoiseSigma = SigmaPrediction.initNoiseSigma(sigmaTable, spacing: config.timestepSpacing)
        previousDerivative = nil
        savedDt = nil
        savedSample = nil
        cursor.reset()
    }

    public mutating func setBeginIndex(_ index: Int) { cursor.beginIndex = index }

    public func scaleModelInput(_ sample: [Float], timestep: Double) throws -> [Float] {
        let index = try cursor.current(for: timestep, in: timesteps, scheduler: Self.name)
        return SigmaPrediction.scaled(sample, sigma: try SigmaSchedule.sigma(sigmaTable, at: index, scheduler: Self.name))
    }

    public mutating func step(modelOutput: [Float], timestep: Double, sample: [Float], noise: NoiseSource) throws -> SchedulerStep {
        try checkSameCount(sample, modelOutput, scheduler: Self.name, what: "model output")
        let index = try cursor.begin(for: timestep, in: timesteps, scheduler: Self.name)
        let firstOrder = savedDt == nil
        let sigma = try SigmaSchedule.sigma(sigmaTable, at: firstOrder ? index : index - 1, scheduler: Self.name)
        let sigmaNext = try SigmaSchedule.sigma(sigmaTable, at: firstOrder ? index + 1 : index, scheduler: Self.name)
        // The corrector evaluates the model at sigma_next.
        let sigmaInput = firstOrder ? sigma : sigmaNext
        var x0 = SigmaPrediction.original(config.predictionType, sample: sample, modelOutput: modelOutput, sigma: sigmaInput)
        x0 = ConfigCheck.clipped(x0, config: config)

        var base = sample
        var derivative: [Float]
        let dt: Float
        if firstOrder {
            derivative = zip(sample, x0).map { ($0 - $1) / sigma }
            dt = sigmaNext - sigma
            previousDerivative = derivative
            savedDt = dt
            savedSample = sample
        } else {
            let previous = previousDerivative ?? []
            derivative = zip(sample, x0).map { ($0 - $1) / sigmaNext }
            if previous.count == derivative.count {
                for i in derivative.indices { derivative[i] = (previous[i] + derivative[i]) / 2 }
            }
            dt = savedDt ?? 0
            base = savedSample ?? sample
            previousDerivative = nil
            savedDt = nil
            savedSample = nil
        }
        let prev = zip(base, derivative).map { $0 + $1 * dt }
        cursor.stepIndex = index + 1
        return SchedulerStep(prevSample: prev, predOriginalSample: x0)
    }

    public func addNoise(original: [Float], noise: [Float], timestep: Double) throws -> [Float] {
        let sigma = try SigmaSchedule.addNoiseSigma(sigmaTable, timesteps: timesteps, cursor: cursor, timestep: timestep, scheduler: Self.name)
        return try SigmaSchedule.addNoise(original: original, noise: noise, sigma: sigma, scheduler: Self.name)
    }
}
