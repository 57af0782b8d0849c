// Matches diffusers PNDMScheduler: pseudo numerical methods (PLMS, with skip_prk_steps).
import TensorCore

public struct PNDMScheduler: AlphaScheduler {
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public private(set) var timesteps: [Double] = []
    public let finalAlphaCumprod: Float
    var inferenceSteps = 0
    /// Model outputs of the previous steps (diffusers' `ets`), newest last, at most 4.
    var ets: [Tensor] = []
    var counter = 0
    var currentSample: Tensor?

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .pndm)
        try Self.check(c, predictionTypes: [.epsilon, .vPrediction])
        // The Runge-Kutta warm-up is not implemented; every SD config skips it.
        if !c.skipPrkSteps {
            throw SchedulerError.unsupported(scheduler: "PNDMScheduler", field: "skip_prk_steps", value: "false", supported: ["true"])
        }
        self.config = c
        noiseSchedule = try NoiseSchedule(config: c, scheduler: "PNDMScheduler")
        finalAlphaCumprod = Self.finalAlphaCumprod(c, schedule: noiseSchedule)
    }

    public mutating func setTimesteps(_ count: Int) throws {
        try TimestepSpacing.checkCount(count, config: config, scheduler: schedulerName)
        let trainSteps = config.numTrainTimesteps
        let ascending: [Double]
        switch config.timestepSpacing {
        case .linspace:
            ascending = NumpyCompat.linspace(0, Double(trainSteps - 1), count).map(NumpyCompat.round)
        case .leading:
            let ratio = trainSteps / count
            ascending = (0..<count).map { Double($0 * ratio + config.stepsOffset) }
        case .trailing:
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

    public mutating func step(modelOutput: Tensor, timestep: Double, sample: Tensor, noise: NoiseSource) throws -> SchedulerStep {
        guard inferenceSteps > 0 else { throw SchedulerError.timestepsNotSet(scheduler: schedulerName) }
        try checkStep(modelOutput: modelOutput, sample: sample, scheduler: schedulerName)
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

        // The linear multistep combination of the stored ε's, [N, C, H, W].
        var x = sample
        let combined: Tensor
        let e = ets
        switch (e.count, counter) {
        case (1, 0):
            combined = modelOutput
            currentSample = sample
        case (1, _):
            combined = (modelOutput + e[0]) / 2
            x = currentSample ?? sample
            currentSample = nil
        case (2, _):
            combined = (e[1] * 3 - e[0]) / 2
        case (3, _):
            combined = (e[2] * 23 - e[1] * 16 + e[0] * 5) / 12
        default:
            combined = (e[3] * 55 - e[2] * 59 + e[1] * 37 - e[0] * 9) * Float(1.0 / 24.0)
        }
        let prev = try previousSample(x, timestep: t, prevTimestep: prevT, modelOutput: combined)
        counter += 1
        return SchedulerStep(prevSample: prev, predOriginalSample: nil)
    }

    /// Formula (9) of Liu et al. (2022): x_{t-delta} from x_t and the combined output.
    func previousSample(_ sample: Tensor, timestep: Double, prevTimestep: Double, modelOutput: Tensor) throws -> Tensor {
        let alphaProd = try self.alphaProd(at: timestep)
        let alphaProdPrev = try self.alphaProd(at: prevTimestep)
        let betaProd = 1 - alphaProd, betaProdPrev = 1 - alphaProdPrev
        // ε from ε or v (init rejects "sample", the only type that would need x̂₀).
        let epsilon = config.predictionType.epsilon(modelOutput: modelOutput, sample: sample, original: sample,
                                                    level: NoiseLevel(alphaProd: alphaProd))
        let sampleCoeff = (alphaProdPrev / alphaProd).squareRoot()
        let denominator = alphaProd * betaProdPrev.squareRoot() + (alphaProd * betaProd * alphaProdPrev).squareRoot()
        let difference = alphaProdPrev - alphaProd
        return sample * sampleCoeff - epsilon * (difference / denominator)
    }
}
