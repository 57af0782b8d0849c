// DPM-Solver++ multistep (2M by default, optional Karras sigmas); matches diffusers DPMSolverMultistepScheduler.
import Foundation

public struct DPMSolverMultistepScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    public var sigmas: [Float]? { sigmaTable }
    public var initNoiseSigma: Float { 1 }
    public var order: Int { 1 }
    var sigmaTable: [Float]
    var cursor = StepCursor()
    /// The last `solver_order` data predictions x0, newest last.
    var modelOutputs: [[Float]] = []
    var lowerOrderNums = 0
    static let name = "DPMSolverMultistepScheduler"

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .dpmSolverMultistep)
        try ConfigCheck.sigmaBased(c, scheduler: Self.name)
        try ConfigCheck.oneOf(c.algorithmType, ["dpmsolver++"], field: "algorithm_type", scheduler: Self.name)
        try ConfigCheck.oneOf(c.solverType, ["midpoint", "heun"], field: "solver_type", scheduler: Self.name)
        try ConfigCheck.oneOf(c.finalSigmasType, ["zero", "sigma_min"], field: "final_sigmas_type", scheduler: Self.name)
        try ConfigCheck.off(c.thresholding, field: "thresholding", scheduler: Self.name)
        try ConfigCheck.off(c.useLuLambdas, field: "use_lu_lambdas", scheduler: Self.name)
        try ConfigCheck.off(c.useFlowSigmas, field: "use_flow_sigmas", scheduler: Self.name)
        try ConfigCheck.off(c.useDynamicShifting, field: "use_dynamic_shifting", scheduler: Self.name)
        if let v = c.varianceType, v == "learned" || v == "learned_range" {
            throw SchedulerError.unsupported(scheduler: Self.name, field: "variance_type", value: v, supported: ["null"])
        }
        guard (1...3).contains(c.solverOrder) else {
            throw SchedulerError.unsupported(scheduler: Self.name, field: "solver_order", value: "\(c.solverOrder)", supported: ["1", "2", "3"])
        }
        self.config = c
        noiseSchedule = try NoiseSchedule(config: c, scheduler: Self.name)
        sigmaTable = noiseSchedule.trainingSigmas
        timesteps = (0..<c.numTrainTimesteps).reversed().map(Double.init)
    }

    /// One past the last usable training timestep: lambda_min_clipped cuts off the noisiest
    /// timesteps (diffusers' searchsorted over the flipped log-SNR).
    func lastTimestep() -> Int {
        let n = config.numTrainTimesteps
        guard let clip = config.lambdaMinClipped else { return n }
        let lambdas: [Float] = noiseSchedule.alphasCumprod.map { acp in
            Foundation.log(acp.squareRoot()) - Foundation.log((1 - acp).squareRoot())
        }
        let clipped = lambdas.reversed().filter { Double($0) < clip }.count
        return n - clipped
    }

    public mutating func setTimesteps(_ count: Int) throws {
        try TimestepSpacing.checkCount(count, config: config, scheduler: Self.name)
        let last = lastTimestep()
        var steps: [Double]
        switch config.timestepSpacing {
        case "linspace":
            steps = NumpyCompat.linspace(0, Double(last - 1), count + 1).map(NumpyCompat.round).reversed().dropLast()
        case "leading":
            let ratio = last / (count + 1)
            steps = (1...count).reversed().map { Double($0 * ratio + config.stepsOffset) }
        default:
            steps = TimestepSpacing.trailing(count: count, from: last, trainSteps: config.numTrainTimesteps)
        }
        let trainSigmas = noiseSchedule.trainingSigmas
        var sigmas: [Double]
        if config.useKarrasSigmas {
            let logSigmas = trainSigmas.map { Foundation.log($0) }
            sigmas = NumpyCompat.karrasSigmas(sigmaMin: Double(trainSigmas[0]), sigmaMax: Double(trainSigmas[trainSigmas.count - 1]), count: count)
            steps = sigmas.map { NumpyCompat.sigmaToT($0, logSigmas: logSigmas) }
            steps = steps.map { config.betaSchedule == "squaredcos_cap_v2" ? $0.rounded(.towardZero) : NumpyCompat.round($0) }
        } else {
            sigmas = steps.map { NumpyCompat.interp($0, table: trainSigmas) }
        }
        sigmaTable = (sigmas + [SigmaSchedule.finalSigma(config, schedule: noiseSchedule)]).map { Float($0) }
        timesteps = steps
        modelOutputs = []
        lowerOrderNums = 0
        cursor.reset()
    }

    public mutating func setBeginIndex(_ index: Int) { cursor.beginIndex = index }

    public func scaleModelInput(_ sample: [Float], timestep: Double) throws -> [Float] { sample }

    /// alpha_t = 1 / sqrt(sigma^2 + 1), sigma_t = sigma * alpha_t, lambda = log(alpha_t / sigma_t).
    static func alphaSigmaLambda(_ sigma: Float) -> (alpha: Float, sigma: Float, lambda: Float) {
        let alpha = 1 / (sigma * sigma + 1).squareRoot()
        let s = sigma * alpha
        return (alpha, s, Foundation.log(alpha) - Foundation.log(s))
    }

    public mutating func step(modelOutput: [Float], timestep: Double, sample: [Float], noise: NoiseSource) throws -> SchedulerStep {
        guard !sigmaTable.isEmpty, sigmaTable.count == timesteps.count + 1 else { throw SchedulerError.timestepsNotSet(scheduler: Self.name) }
        try checkSameCount(sample, modelOutput, scheduler: Self.name, what: "model output")
        let index = try cursor.begin(for: timestep, in: timesteps, scheduler: Self.name, missingIsLast: true)
        let count = timesteps.count
        let lowerOrderFinal = index == count - 1 &&
            (config.eulerAtFinal || (config.lowerOrderFinal && count < 15) || config.finalSigmasType == "zero")
        let lowerOrderSecond = index == count - 2 && config.lowerOrderFinal && count < 15

        // Data prediction x0 (dpmsolver++ works on x0).
        let s0 = Self.alphaSigmaLambda(try SigmaSchedule.sigma(sigmaTable, at: index, scheduler: Self.name))
        let x0: [Float]
        switch config.predictionType {
        case "sample": x0 = modelOutput
        case "v_prediction": x0 = zip(sample, modelOutput).map { s0.alpha * $0 - s0.sigma * $1 }
        default: x0 = zip(sample, modelOutput).map { ($0 - s0.sigma * $1) / s0.alpha }
        }
        modelOutputs.append(x0)
        if modelOutputs.count > config.solverOrder { modelOutputs.removeFirst() }

        let t = Self.alphaSigmaLambda(try SigmaSchedule.sigma(sigmaTable, at: index + 1, scheduler: Self.name))
        let h = t.lambda - s0.lambda
        let expm = Foundation.exp(-h) - 1  // exp(-h) - 1
        let sampleCoeff = t.sigma / s0.sigma
        let d0Coeff = t.alpha * expm
        let prev: [Float]
        if config.solverOrder == 1 || lowerOrderNums < 1 || lowerOrderFinal {
            prev = zip(sample, x0).map { sampleCoeff * $0 - d0Coeff * $1 }
        } else if config.solverOrder == 2 || lowerOrderNums < 2 || lowerOrderSecond {
            let s1 = Self.alphaSigmaLambda(try SigmaSchedule.sigma(sigmaTable, at: index - 1, scheduler: Self.name))
            let m0 = modelOutputs[modelOutputs.count - 1], m1 = modelOutputs[modelOutputs.count - 2]
            let r0 = (s0.lambda - s1.lambda) / h
            let d1Scale = 1 / r0
            let d1Coeff = config.solverType == "heun" ? -(t.alpha * (expm / h + 1)) : 0.5 * d0Coeff
            prev = (0..<sample.count).map { i in
                let d1 = d1Scale * (m0[i] - m1[i])
                return sampleCoeff * sample[i] - d0Coeff * m0[i] - d1Coeff * d1
            }
        } else {
            let s1 = Self.alphaSigmaLambda(try SigmaSchedule.sigma(sigmaTable, at: index - 1, scheduler: Self.name))
            let s2 = Self.alphaSigmaLambda(try SigmaSchedule.sigma(sigmaTable, at: index - 2, scheduler: Self.name))
            let n = modelOutputs.count
            let m0 = modelOutputs[n - 1], m1 = modelOutputs[n - 2], m2 = modelOutputs[n - 3]
            let r0 = (s0.lambda - s1.lambda) / h, r1 = (s1.lambda - s2.lambda) / h
            let d1Coeff = t.alpha * (expm / h + 1)
            let d2Coeff = t.alpha * ((expm + h) / (h * h) - 0.5)
            prev = (0..<sample.count).map { i in
                let d10 = (1 / r0) * (m0[i] - m1[i]), d11 = (1 / r1) * (m1[i] - m2[i])
                let d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11)
                let d2 = (1 / (r0 + r1)) * (d10 - d11)
                return sampleCoeff * sample[i] - d0Coeff * m0[i] + d1Coeff * d1 - d2Coeff * d2
            }
        }
        lowerOrderNums = min(lowerOrderNums + 1, config.solverOrder)
        cursor.stepIndex = index + 1
        return SchedulerStep(prevSample: prev, predOriginalSample: x0)
    }

    /// alpha_t * original + sigma_t * noise with the sigma of the timestep's (or begin) index.
    public func addNoise(original: [Float], noise: [Float], timestep: Double) throws -> [Float] {
        try checkSameCount(original, noise, scheduler: Self.name)
        let sigma = try SigmaSchedule.addNoiseSigma(sigmaTable, timesteps: timesteps, cursor: cursor, timestep: timestep,
                                                    scheduler: Self.name, missingIsLast: true)
        let s = Self.alphaSigmaLambda(sigma)
        return zip(original, noise).map { s.alpha * $0 + s.sigma * $1 }
    }
}
