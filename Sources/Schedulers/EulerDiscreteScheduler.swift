// Matches diffusers EulerDiscreteScheduler: the Euler method on the Karras ODE (Algorithm 2 of Karras et al. 2022).
import Foundation
import TensorCore

public struct EulerDiscreteScheduler: SigmaScheduler {
    public var ladder: SigmaLadder

    public init(config: SchedulerConfig) throws {
        let c = config.applyingDefaults(of: .euler)
        try ConfigCheck.oneOf(c.interpolationType, ["linear", "log_linear"], field: "interpolation_type", scheduler: Self.name)
        try ConfigCheck.oneOf(c.finalSigmasType, ["zero", "sigma_min"], field: "final_sigmas_type", scheduler: Self.name)
        try ConfigCheck.oneOf(c.timestepType, ["discrete", "continuous"], field: "timestep_type", scheduler: Self.name)
        ladder = try SigmaLadder(config: c, scheduler: Self.name)
    }

    public mutating func setTimesteps(_ count: Int) throws {
        let tables = try ladder.tables(count: count, bounds: (config.sigmaMin, config.sigmaMax),
                                       logLinear: config.interpolationType == "log_linear")
        let sigmas = (tables.sigmas + [ladder.finalSigma]).map { Float($0) }
        // Continuous-time v-prediction models take 0.25·log σ as their timestep.
        let continuous = config.timestepType == "continuous" && config.predictionType == .vPrediction
        ladder.set(timesteps: continuous ? sigmas.dropLast().map { Double(0.25 * Foundation.log($0)) } : tables.timesteps,
                   sigmas: sigmas)
    }

    /// x + (x − x̂₀)/σ · (σ_next − σ); s_churn = 0 (diffusers' default), so no noise is drawn.
    public mutating func step(modelOutput: Tensor, timestep: Double, sample: Tensor, noise: NoiseSource) throws -> SchedulerStep {
        try checkStep(modelOutput: modelOutput, sample: sample, scheduler: Self.name)
        let index = try ladder.begin(at: timestep)
        let sigma = try ladder.sigma(at: index), sigmaNext = try ladder.sigma(at: index + 1)
        let x0 = config.predictionType.original(modelOutput: modelOutput, sample: sample, sigma: sigma)  // [N, C, H, W]
        let derivative = (sample - x0) / sigma
        ladder.advance()
        return SchedulerStep(prevSample: sample + derivative * (sigmaNext - sigma), predOriginalSample: x0)
    }
}
