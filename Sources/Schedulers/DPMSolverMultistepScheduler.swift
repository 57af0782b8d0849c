// Matches diffusers DPMSolverMultistepScheduler: DPM-Solver++ multistep (2M by default, optional Karras
// sigmas), and its SDE variant (algorithm_type "sde-dpmsolver++", A1111's "DPM++ 2M SDE").
import Foundation
import TensorCore

public struct DPMSolverMultistepScheduler: SigmaScheduler {
    public var ladder: SigmaLadder
    /// Samples are variance-preserving: the initial noise is N(0, 1) and the input unscaled.
    public var initNoiseSigma: Float { 1 }
    /// The last `solver_order` data predictions x̂₀, newest last.
    var modelOutputs: [Tensor] = []
    var lowerOrderNums = 0

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .dpmSolverMultistep)
        try ConfigCheck.oneOf(c.algorithmType, ["dpmsolver++", "sde-dpmsolver++"], field: "algorithm_type", scheduler: Self.name)
        try ConfigCheck.oneOf(c.solverType, ["midpoint", "heun"], field: "solver_type", scheduler: Self.name)
        try ConfigCheck.oneOf(c.finalSigmasType, ["zero", "sigma_min"], field: "final_sigmas_type", scheduler: Self.name)
        try ConfigCheck.off(c.thresholding, field: "thresholding", scheduler: Self.name)
        try ConfigCheck.off(c.useLuLambdas, field: "use_lu_lambdas", scheduler: Self.name)
        try ConfigCheck.off(c.useFlowSigmas, field: "use_flow_sigmas", scheduler: Self.name)
        try ConfigCheck.off(c.useDynamicShifting, field: "use_dynamic_shifting", scheduler: Self.name)
        try ConfigCheck.off(c.useExponentialSigmas, field: "use_exponential_sigmas", scheduler: Self.name)
        if let v = c.varianceType, v == "learned" || v == "learned_range" {
            throw SchedulerError.unsupported(scheduler: Self.name, field: "variance_type", value: v, supported: ["null"])
        }
        guard (1...3).contains(c.solverOrder) else {
            throw SchedulerError.unsupported(scheduler: Self.name, field: "solver_order", value: "\(c.solverOrder)", supported: ["1", "2", "3"])
        }
        ladder = try SigmaLadder(config: c, scheduler: Self.name, missingIsLast: true)
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

    /// DPM-Solver spaces its own integer timesteps (n + 1 points, the last dropped) and
    /// rounds the Karras ramp's timesteps.
    public mutating func setTimesteps(_ count: Int) throws {
        try TimestepSpacing.checkCount(count, config: config, scheduler: Self.name)
        let last = lastTimestep()
        var steps: [Double]
        switch config.timestepSpacing {
        case .linspace:
            steps = NumpyCompat.linspace(0, Double(last - 1), count + 1).map(NumpyCompat.round).reversed().dropLast()
        case .leading:
            let ratio = last / (count + 1)
            steps = (1...count).reversed().map { Double($0 * ratio + config.stepsOffset) }
        case .trailing:
            steps = TimestepSpacing.trailing(count: count, from: last, trainSteps: config.numTrainTimesteps)
        }
        let trainSigmas = noiseSchedule.trainingSigmas
        var sigmas: [Double]
        if let ramp = ladder.spacing.ramp(sigmaMin: Double(trainSigmas[0]), sigmaMax: Double(trainSigmas[trainSigmas.count - 1]),
                                          count: count) {
            let logSigmas = trainSigmas.map { Foundation.log($0) }
            sigmas = ramp
            steps = ramp.map { NumpyCompat.sigmaToT($0, logSigmas: logSigmas) }
            steps = steps.map { config.betaSchedule == .squaredcosCapV2 ? $0.rounded(.towardZero) : NumpyCompat.round($0) }
        } else {
            sigmas = steps.map { NumpyCompat.interp($0, table: trainSigmas) }
        }
        ladder.set(timesteps: steps, sigmas: (sigmas + [ladder.finalSigma]).map { Float($0) })
        modelOutputs = []
        lowerOrderNums = 0
    }

    public func scaleModelInput(_ sample: Tensor, timestep: Double) throws -> Tensor { sample }

    /// alpha_t = 1 / sqrt(sigma^2 + 1), sigma_t = sigma * alpha_t, lambda = log(alpha_t / sigma_t).
    static func alphaSigmaLambda(_ sigma: Float) -> (level: NoiseLevel, lambda: Float) {
        let alpha = 1 / (sigma * sigma + 1).squareRoot()
        let s = sigma * alpha
        return (NoiseLevel(signal: alpha, noise: s), Foundation.log(alpha) - Foundation.log(s))
    }

    public mutating func step(modelOutput: Tensor, timestep: Double, sample: Tensor, noise: NoiseSource) throws -> SchedulerStep {
        guard ladder.isSet else { throw SchedulerError.timestepsNotSet(scheduler: Self.name) }
        try checkStep(modelOutput: modelOutput, sample: sample, scheduler: Self.name)
        let index = try ladder.begin(at: timestep)
        let count = ladder.timesteps.count
        let lowerOrderFinal = index == count - 1 &&
            (config.eulerAtFinal || (config.lowerOrderFinal && count < 15) || config.finalSigmasType == "zero")
        let lowerOrderSecond = index == count - 2 && config.lowerOrderFinal && count < 15

        // dpmsolver++ works on the data prediction x̂₀.
        let s0 = Self.alphaSigmaLambda(try ladder.sigma(at: index))
        let x0 = config.predictionType.original(modelOutput: modelOutput, sample: sample, level: s0.level)  // [N, C, H, W]
        modelOutputs.append(x0)
        if modelOutputs.count > config.solverOrder { modelOutputs.removeFirst() }

        // The SDE variant draws fresh noise at every step, the last one included, as diffusers does.
        let stochastic = config.algorithmType == "sde-dpmsolver++"
        let drawn = stochastic ? try noise(like: sample, scheduler: Self.name) : nil  // [N, C, H, W]

        let t = Self.alphaSigmaLambda(try ladder.sigma(at: index + 1))
        let h = t.lambda - s0.lambda
        let n = modelOutputs.count
        // x_t = sampleCoeff·x_s + Σ c_k·D_k (+ noiseCoeff·z): the ODE's exp(-h) - 1 becomes the
        // SDE's -(1 - exp(-2h)), twice the step toward x̂₀, with the excess variance added back as noise.
        let e = Foundation.exp(-h)
        let phi1: Float = stochastic ? -(1 - e * e) : e - 1                  // φ₁ in the x̂₀ coefficient
        let phi2: Float = stochastic ? phi1 / (2 * h) + 1 : phi1 / h + 1    // the Heun and third-order D1 term
        let phi3: Float = stochastic ? (phi1 + 2 * h) / (4 * h * h) + 0.5 : (phi1 + h) / (h * h) - 0.5
        let sampleCoeff = t.level.noise / s0.level.noise * (stochastic ? e : 1)
        let d0Coeff = t.level.signal * phi1
        var prev: Tensor
        if config.solverOrder == 1 || lowerOrderNums < 1 || lowerOrderFinal {
            prev = sample * sampleCoeff - x0 * d0Coeff
        } else if config.solverOrder == 2 || lowerOrderNums < 2 || lowerOrderSecond {
            let s1 = Self.alphaSigmaLambda(try ladder.sigma(at: index - 1))
            let m0 = modelOutputs[n - 1], m1 = modelOutputs[n - 2]
            let r0 = (s0.lambda - s1.lambda) / h
            let d1 = (m0 - m1) * (1 / r0)
            let d1Coeff = config.solverType == "heun" ? -(t.level.signal * phi2) : 0.5 * d0Coeff
            prev = sample * sampleCoeff - m0 * d0Coeff - d1 * d1Coeff
        } else {
            let s1 = Self.alphaSigmaLambda(try ladder.sigma(at: index - 1))
            let s2 = Self.alphaSigmaLambda(try ladder.sigma(at: index - 2))
            let m0 = modelOutputs[n - 1], m1 = modelOutputs[n - 2], m2 = modelOutputs[n - 3]
            let r0 = (s0.lambda - s1.lambda) / h, r1 = (s1.lambda - s2.lambda) / h
            let d10 = (m0 - m1) * (1 / r0), d11 = (m1 - m2) * (1 / r1)
            let d1 = d10 + (d10 - d11) * (r0 / (r0 + r1))
            let d2 = (d10 - d11) * (1 / (r0 + r1))
            prev = sample * sampleCoeff - m0 * d0Coeff + d1 * (t.level.signal * phi2) - d2 * (t.level.signal * phi3)
        }
        if let drawn { prev = prev + drawn * (t.level.noise * (1 - e * e).squareRoot()) }
        lowerOrderNums = min(lowerOrderNums + 1, config.solverOrder)
        ladder.advance()
        return SchedulerStep(prevSample: prev, predOriginalSample: x0)
    }

    /// alpha_t·original + sigma_t·noise with the sigma of the timestep's (or begin) index.
    public func addNoise(original: Tensor, noise: Tensor, timestep: Double) throws -> Tensor {
        try checkSameShape(original, noise, scheduler: Self.name)
        let level = Self.alphaSigmaLambda(try ladder.addNoiseSigma(timestep: timestep)).level
        return original * level.signal + noise * level.noise
    }
}
