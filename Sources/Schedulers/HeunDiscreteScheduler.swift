// Matches diffusers HeunDiscreteScheduler: Heun's second-order method (Algorithm 2 of Karras et al. 2022).
import TensorCore

public struct HeunDiscreteScheduler: SigmaScheduler {
    public var ladder: SigmaLadder
    /// Two model calls per step: every timestep after the first appears twice.
    public var order: Int { 2 }
    /// State between the predictor (first-order) call and the corrector call.
    var predictor: (derivative: Tensor, dt: Float, sample: Tensor)?

    public init(config: SchedulerConfig) throws {
        ladder = try SigmaLadder(config: config.applyingDefaults(of: .heun), scheduler: Self.name)
    }

    public mutating func setTimesteps(_ count: Int) throws {
        let tables = try ladder.tables(count: count)
        let base = (tables.sigmas + [0]).map { Float($0) }
        // [s0, s1, s1, ..., s_{n-1}, s_{n-1}, 0] and [t0, t1, t1, ..., t_{n-1}, t_{n-1}].
        ladder.set(timesteps: [tables.timesteps[0]] + tables.timesteps.dropFirst().flatMap { [$0, $0] },
                   sigmas: [base[0]] + base.dropFirst().dropLast().flatMap { [$0, $0] } + [base[base.count - 1]])
        predictor = nil
    }

    public mutating func step(modelOutput: Tensor, timestep: Double, sample: Tensor, noise: NoiseSource) throws -> SchedulerStep {
        try checkStep(modelOutput: modelOutput, sample: sample, scheduler: Self.name)
        let index = try ladder.begin(at: timestep)
        let prev: Tensor, x0: Tensor  // [N, C, H, W]
        if let first = predictor {
            // Corrector: the model was evaluated at sigma_next; average the two slopes.
            let sigmaNext = try ladder.sigma(at: index)
            x0 = ConfigCheck.clipped(config.predictionType.original(modelOutput: modelOutput, sample: sample, sigma: sigmaNext),
                                     config: config)
            let derivative = ((sample - x0) / sigmaNext + first.derivative) / 2
            prev = first.sample + derivative * first.dt
            predictor = nil
        } else {
            let sigma = try ladder.sigma(at: index), sigmaNext = try ladder.sigma(at: index + 1)
            x0 = ConfigCheck.clipped(config.predictionType.original(modelOutput: modelOutput, sample: sample, sigma: sigma),
                                     config: config)
            let derivative = (sample - x0) / sigma
            let dt = sigmaNext - sigma
            prev = sample + derivative * dt
            predictor = (derivative, dt, sample)
        }
        ladder.advance()
        return SchedulerStep(prevSample: prev, predOriginalSample: x0)
    }
}
