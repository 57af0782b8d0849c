// Matches diffusers EulerAncestralDiscreteScheduler: ancestral Euler (k-diffusion sample_euler_ancestral).
import TensorCore

public struct EulerAncestralDiscreteScheduler: SigmaScheduler {
    public var ladder: SigmaLadder

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .eulerAncestral)
        try ConfigCheck.oneOf(c.predictionType, [.epsilon, .vPrediction], scheduler: Self.name)
        // Like diffusers, this class has no sigma-spacing options (Karras etc.) and ignores them.
        ladder = try SigmaLadder(config: c, scheduler: Self.name, spacing: .interpolated)
    }

    public mutating func setTimesteps(_ count: Int) throws {
        try ladder.setTimesteps(count)
    }

    /// An Euler step down to sigma_down, then fresh noise of size sigma_up (drawn every step,
    /// the last one included, as diffusers does).
    public mutating func step(modelOutput: Tensor, timestep: Double, sample: Tensor, noise: NoiseSource) throws -> SchedulerStep {
        try checkStep(modelOutput: modelOutput, sample: sample, scheduler: Self.name)
        let index = try ladder.begin(at: timestep)
        let sigma = try ladder.sigma(at: index), sigmaTo = try ladder.sigma(at: index + 1)
        let x0 = config.predictionType.original(modelOutput: modelOutput, sample: sample, sigma: sigma)  // [N, C, H, W]
        let sigmaUp = (sigmaTo * sigmaTo * (sigma * sigma - sigmaTo * sigmaTo) / (sigma * sigma)).squareRoot()
        let sigmaDown = (sigmaTo * sigmaTo - sigmaUp * sigmaUp).squareRoot()
        let derivative = (sample - x0) / sigma
        let drawn = try noise(like: sample, scheduler: Self.name)
        ladder.advance()
        return SchedulerStep(prevSample: sample + derivative * (sigmaDown - sigma) + drawn * sigmaUp, predOriginalSample: x0)
    }
}
