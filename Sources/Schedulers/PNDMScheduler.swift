// Pseudo numerical methods (PLMS, with skip_prk_steps); matches diffusers PNDMScheduler.

public struct PNDMScheduler: Scheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    public var sigmas: [Float]? { nil }
    public var initNoiseSigma: Float { 1 }
    public var order: Int { 1 }
    let finalAlphaCumprod: Float
    var inferenceSteps = 0
    /// Model outputs of the previous steps (diffusers' `ets`), newest last, at most 4.
    var ets: [[Float]] = []
    var counter = 0
    var currentSample: [Float]?
    static let name = "PNDMScheduler"

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .pndm)
        try ConfigCheck.alphaBased(c, scheduler: Self.name, predictionTypes: ["epsilon", "v_prediction"])
        // The Runge-Kutta warm-up is not implemented; every SD config skips it.
        if !c.skipPrkSteps {
            throw SchedulerError.unsupported(scheduler: Self.name, field: "skip_prk_steps", value: "false", supported: ["true"])
        }
        self.config = c
        noiseSchedule = try NoiseSchedule(config: c, scheduler: Self.name)
        finalAlphaCumprod = c.setAlphaToOne ? 1 : noiseSchedule.alphasCumprod[0]
    }

    public mutating func setTimesteps(_ count: Int) throws {
        try TimestepSpacing.checkCount(count, config: config, scheduler: Self.name)
        let trainSteps = config.numTrainTimesteps
        let ascending: [Double]
        switch config.timestepSpacing {
        case "linspace":
            ascending = NumpyCompat.linspace(0, Double(trainSteps - 1), count).map(NumpyCompat.round)
        case "leading":
            let ratio = trainSteps / count
            ascending = (0..<count).map { Double($0 * ratio + config.stepsOffset) }
        default:  // trailing
            ascending = TimestepSpacing.trailing(count: count, from: trainSteps, trainSteps: trainSteps).reversed()
        }
        // PLMS runs its first timestep twice (its second call is the first step's corrector).
        var plms = Array(ascending.dropLast())
        if ascending.count >= 2 { plms.append(ascending[ascending.count - 2]) }
        plms.append(ascending[ascending.count - 1])
        timesteps = plms.reversed()
        inferenceSteps = count
        ets = []
        counter = 0
        currentSample = nil
    }

    public mutating func setBeginIndex(_ index: Int) {}

    public func scaleModelInput(_ sample: [Float], timestep: Double) throws -> [Float] { sample }

    public mutating func step(modelOutput: [Float], timestep: Double, sample: [Float], noise: NoiseSource) throws -> SchedulerStep {
        guard inferenceSteps > 0 else { throw SchedulerError.timestepsNotSet(scheduler: Self.name) }
        try checkSameCount(sample, modelOutput, scheduler: Self.name, what: "model output")
        let stride = Double(config.numTrainTimesteps / inferenceSteps)
        var t = timestep
        var prevT = t - stride
        if counter != 1 {
            ets = Array(ets.suffix(3))
            ets.append(modelOutput)
        } else {
            prevT = t
            t = t + stride
        }

        var x = sample
        let combined: [Float]
        let e = ets
        let n = e.count
        if n == 1 && counter == 0 {
            combined = modelOutput
            currentSample = sample
        } else if n == 1 && counter == 1 {
            combined = zip(modelOutput, e[0]).map { ($0 + $1) / 2 }
            x = currentSample ?? sample
            currentSample = nil
        } else if n == 2 {
            combined = zip(e[1], e[0]).map { (3 * $0 - $1) / 2 }
        } else if n == 3 {
            combined = (0..<sample.count).map { i in (23 * e[2][i] - 16 * e[1][i] + 5 * e[0][i]) / 12 }
        } else {
            let scale = Float(1.0 / 24.0)
            combined = (0..<sample.count).map { i in scale * (55 * e[3][i] - 59 * e[2][i] + 37 * e[1][i] - 9 * e[0][i]) }
        }
        let prev = try previousSample(x, timestep: t, prevTimestep: prevT, modelOutput: combined)
        counter += 1
        return SchedulerStep(prevSample: prev, predOriginalSample: nil)
    }

    /// Formula (9) of Liu et al. (2022): x_{t-delta} from x_t and the combined epsilon.
    func previousSample(_ sample: [Float], timestep: Double, prevTimestep: Double, modelOutput: [Float]) throws -> [Float] {
        let alphaProd = try noiseSchedule.alphaCumprod(at: timestep, scheduler: Self.name)
        let alphaProdPrev = prevTimestep >= 0 ? try noiseSchedule.alphaCumprod(at: prevTimestep, scheduler: Self.name) : finalAlphaCumprod
        let betaProd = 1 - alphaProd, betaProdPrev = 1 - alphaProdPrev
        var epsilon = modelOutput
        if config.predictionType == "v_prediction" {
            let a = alphaProd.squareRoot(), b = betaProd.squareRoot()
            epsilon = zip(modelOutput, sample).map { a * $0 + b * $1 }
        }
        let sampleCoeff = (alphaProdPrev / alphaProd).squareRoot()
        let denominator = alphaProd * betaProdPrev.squareRoot() + (alphaProd * betaProd * alphaProdPrev).squareRoot()
        let difference = alphaProdPrev - alphaProd
        return zip(sample, epsilon).map { sampleCoeff * $0 - difference * $1 / denominator }
    }

    public func addNoise(original: [Float], noise: [Float], timestep: Double) throws -> [Float] {
        try noiseSchedule.addNoise(original: original, noise: noise, timestep: timestep, scheduler: Self.name)
    }
}
