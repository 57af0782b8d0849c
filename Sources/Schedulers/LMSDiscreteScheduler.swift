// Linear multistep sampler (k-diffusion sample_lms, order 4); matches diffusers LMSDiscreteScheduler.

public struct LMSDiscreteScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    public var sigmas: [Float]? { sigmaTable }
    public private(set) var initNoiseSigma: Float
    public var order: Int { 1 }
    /// The multistep order of the update (diffusers' `step(order=4)`).
    public var lmsOrder = 4
    var sigmaTable: [Float]
    var derivatives: [[Float]] = []
    var cursor = StepCursor()
    static let name = "LMSDiscreteScheduler"

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .lms)
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
        sigmaTable = (tables.sigmas + [0]).map { Float($0) }
        timesteps = tables.timesteps
        initNoiseSigma = SigmaPrediction.initNoiseSigma(sigmaTable, spacing: config.timestepSpacing)
        derivatives = []
        cursor.reset()
    }

    public mutating func setBeginIndex(_ index: Int) { cursor.beginIndex = index }

    public func scaleModelInput(_ sample: [Float], timestep: Double) throws -> [Float] {
        let index = try cursor.current(for: timestep, in: timesteps, scheduler: Self.name)
        return SigmaPrediction.scaled(sample, sigma: try SigmaSchedule.sigma(sigmaTable, at: index, scheduler: Self.name))
    }

    /// The integral over [sigma_t, sigma_{t+1}] of the Lagrange basis polynomial of
    /// `current` through the last `order` sigmas. The integrand has degree <= 3, so
    /// Simpson's rule is exact (diffusers integrates it numerically with scipy's quad).
    func coefficient(order: Int, index t: Int, current: Int) -> Double {
        func basis(_ tau: Double) -> Double {
            var product = 1.0
            for k in 0..<order where k != current {
                product *= (tau - Double(sigmaTable[t - k])) / (Double(sigmaTable[t - current]) - Double(sigmaTable[t - k]))
            }
            return product
        }
        let a = Double(sigmaTable[t]), b = Double(sigmaTable[t + 1])
        return (b - a) / 6 * (basis(a) + 4 * basis((a + b) / 2) + basis(b))
    }

    public mutating func step(modelOutput: [Float], timestep: Double, sample: [Float], noise: NoiseSource) throws -> SchedulerStep {
        try checkSameCount(sample, modelOutput, scheduler: Self.name, what: "model output")
        let index = try cursor.begin(for: timestep, in: timesteps, scheduler: Self.name)
        let sigma = try SigmaSchedule.sigma(sigmaTable, at: index, scheduler: Self.name)
        _ = try SigmaSchedule.sigma(sigmaTable, at: index + 1, scheduler: Self.name)
        let x0 = SigmaPrediction.original(config.predictionType, sample: sample, modelOutput: modelOutput, sigma: sigma)
        derivatives.append(zip(sample, x0).map { ($0 - $1) / sigma })
        if derivatives.count > lmsOrder { derivatives.removeFirst() }
        let order = min(index + 1, lmsOrder)
        var prev = sample
        var sum = [Float](repeating: 0, count: sample.count)
        for (k, derivative) in derivatives.reversed().prefix(order).enumerated() {
            let c = Float(coefficient(order: order, index: index, current: k))
            for i in sum.indices { sum[i] = sum[i] + c * derivative[i] }
        }
        for i in prev.indices { prev[i] = prev[i] + sum[i] }
        cursor.stepIndex = index + 1
        return SchedulerStep(prevSample: prev, predOriginalSample: x0)
    }

    public func addNoise(original: [Float], noise: [Float], timestep: Double) throws -> [Float] {
        let sigma = try SigmaSchedule.addNoiseSigma(sigmaTable, timesteps: timesteps, cursor: cursor, timestep: timestep, scheduler: Self.name)
        return try SigmaSchedule.addNoise(original: original, noise: noise, sigma: sigma, scheduler: Self.name)
    }
}
