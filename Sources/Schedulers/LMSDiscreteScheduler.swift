// Matches diffusers LMSDiscreteScheduler: linear multistep (k-diffusion sample_lms, order 4).
import TensorCore

public struct LMSDiscreteScheduler: SigmaScheduler {
    public var ladder: SigmaLadder
    /// The multistep order of the update (diffusers' `step(order=4)`).
    public var lmsOrder = 4
    /// The last `lmsOrder` derivatives (x − x̂₀)/σ, oldest first.
    var derivatives: [Tensor] = []

    public init(config: SchedulerConfig) throws {
        ladder = try SigmaLadder(config: config.applyingDefaults(of: .lms), scheduler: Self.name)
    }

    public mutating func setTimesteps(_ count: Int) throws {
        try ladder.setTimesteps(count)
        derivatives = []
    }

    /// The integral over [sigma_t, sigma_{t+1}] of the Lagrange basis polynomial of
    /// `current` through the last `order` sigmas. The integrand has degree <= 3, so
    /// Simpson's rule is exact (diffusers integrates it numerically with scipy's quad).
    func coefficient(order: Int, index t: Int, current: Int) -> Double {
        let sigmas = ladder.sigmas
        func basis(_ tau: Double) -> Double {
            var product = 1.0
            for k in 0..<order where k != current {
                product *= (tau - Double(sigmas[t - k])) / (Double(sigmas[t - current]) - Double(sigmas[t - k]))
            }
            return product
        }
        let a = Double(sigmas[t]), b = Double(sigmas[t + 1])
        return (b - a) / 6 * (basis(a) + 4 * basis((a + b) / 2) + basis(b))
    }

    public mutating func step(modelOutput: Tensor, timestep: Double, sample: Tensor, noise: NoiseSource) throws -> SchedulerStep {
        try checkStep(modelOutput: modelOutput, sample: sample, scheduler: Self.name)
        let index = try ladder.begin(at: timestep)
        let sigma = try ladder.sigma(at: index)
        _ = try ladder.sigma(at: index + 1)
        let x0 = config.predictionType.original(modelOutput: modelOutput, sample: sample, sigma: sigma)  // [N, C, H, W]
        derivatives.append((sample - x0) / sigma)
        if derivatives.count > lmsOrder { derivatives.removeFirst() }
        let order = min(index + 1, lmsOrder)
        // Σ_k coefficient_k · derivative_k, newest derivative first.
        var update: Tensor?
        for (k, derivative) in derivatives.reversed().prefix(order).enumerated() {
            let term = derivative * Float(coefficient(order: order, index: index, current: k))
            update = update.map { $0 + term } ?? term
        }
        ladder.advance()
        return SchedulerStep(prevSample: update.map { sample + $0 } ?? sample, predOriginalSample: x0)
    }
}
