// Euler method on the Karras ODE (Algorithm 2 of Karras et al. 2022); matches diffusers EulerDiscreteScheduler.
import Foundation

public struct EulerDiscreteScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    public var sigmas: [Float]? { sigmaTable }
    public private(set) var initNoiseSigma: Float
    public var order: Int { 1 }
    var sigmaTable: [Float]
    var cursor = StepCursor()
    static let name = "EulerDiscreteScheduler"

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .euler)
        try ConfigCheck.sigmaBased(c, scheduler: Self.name)
        try ConfigCheck.oneOf(c.interpolationType, ["linear", "log_linear"], field: "interpolation_type", scheduler: Self.name)
        try ConfigCheck.oneOf(c.finalSigmasType, ["zero", "sigma_min"], field: "final_sigmas_type", scheduler: Self.name)
        try ConfigCheck.oneOf(c.timestepType, ["discrete", "continuous"], field: "timestep_type", scheduler: Self.name)
        self.config = c
        noiseSchedule = try NoiseSchedule(config: c, scheduler: Self.name)
        // Before setTimesteps: the full training range, as diffusers' __init__ leaves it.
        sigmaTable = noiseSchedule.trainingSigmas.reversed() + [0]
        timesteps = (0..<c.numTrainTimesteps).reversed().map(Double.init)
        initNoiseSigma = SigmaPrediction.initNoiseSigma(sigmaTable, spacing: c.timestepSpacing)
    }

    public mutating func setTimesteps(_ count: Int) throws {
        let tables = try SigmaSchedule.tables(count: count, config: config, schedule: noiseSchedule, scheduler: Self.name)
        sigmaTable = (tables.sigmas + [SigmaSchedule.finalSigma(config, schedule: noiseSchedule)]).map { Float($0) }
        if config.timestepType == "continuous" && config.predictionType == "v_prediction" {
            timesteps = sigmaTable.dropLast().map { Double(0.25 * Foundation.log($0)) }
        } else {
            timesteps = tables.timesteps
        }
        initNoiseSigma = SigmaPrediction.initNoiseSigma(sigmaTable, spacing: config.timestepSpacing)
        cursor.reset()
    }

    public mutating func setBeginIndex(_ index: Int) { cursor.beginIndex = index }

    public func scaleModelInput(_ sample: [Float], timestep: Double) throws -> [Float] {
        let index = try cursor.current(for: timestep, in: timesteps, scheduler: Self.name)
        return SigmaPrediction.scaled(sample, sigma: try sigma(at: index))
    }

    func sigma(at index: Int) throws -> Float {
        try SigmaSchedule.sigma(sigmaTable, at: index, scheduler: Self.name)
    }

    public mutating func step(modelOutput: [Float], timestep: Double, sample: [Float], noise: NoiseSource) throws -> SchedulerStep {
        try checkSameCount(sample, modelOutput, scheduler: Self.name, what: "model output")
        let index = try cursor.begin(for: timestep, in: timesteps, scheduler: Self.name)
        let sigma = try sigma(at: index), sigmaNext = try self.sigma(at: index + 1)
        // s_churn = 0 (diffusers' default), so sigma_hat == sigma and no noise is drawn.
        let x0 = SigmaPrediction.original(config.predictionType, sample: sample, modelOutput: modelOutput, sigma: sigma)
        let dt = sigmaNext - sigma
        let prev = zip(sample, x0).map { s, x in s + ((s - x) / sigma) * dt }
        cursor.stepIndex = index + 1
        return SchedulerStep(prevSample: prev, predOriginalSample: x0)
    }

    /// original + sigma(t) * noise, with sigma at the timestep's (or the begin) index.
    public func addNoise(original: [Float], noise: [Float], timestep: Double) throws -> [Float] {
        let sigma = try SigmaSchedule.addNoiseSigma(sigmaTable, timesteps: timesteps, cursor: cursor, timestep: timestep, scheduler: Self.name)
        return try SigmaSchedule.addNoise(original: original, noise: noise, sigma: sigma, scheduler: Self.name)
    }
}
