// The training noise schedule (betas, alphas_cumprod) shared by all diffusers schedulers.
import Foundation
import TensorCore

/// betas, alphas and their cumulative product over the training timesteps, in float32 as
/// diffusers keeps them (torch.linspace float32; cumprod accumulated in double on CPU).
public struct NoiseSchedule {
    public let betas: [Float]
    public let alphas: [Float]
    public let alphasCumprod: [Float]

    /// Builds the schedule of `config`; `scheduler` names the class in errors.
    public init(config: SchedulerConfig, scheduler: String) throws {
        let n = config.numTrainTimesteps
        // The schedule holds three floats per training step: a hostile count must not allocate gigabytes.
        guard n >= 2, n <= Self.maximumTrainTimesteps else {
            throw SchedulerError.invalidValue(scheduler: scheduler, field: "num_train_timesteps", value: "\(n)",
                                              reason: "must be within 2...\(Self.maximumTrainTimesteps)")
        }
        var betas: [Float]
        if let trained = config.trainedBetas {
            guard trained.count == n else {
                throw SchedulerError.invalidValue(scheduler: scheduler, field: "trained_betas", value: "[\(trained.count) values]",
                                                  reason: "needs num_train_timesteps = \(n) values")
            }
            betas = trained.map { Float($0) }
        } else {
            if config.betaSchedule != .squaredcosCapV2 {
                for (field, beta) in [("beta_start", config.betaStart), ("beta_end", config.betaEnd)] where !(beta >= 0 && beta < 1) {
                    throw SchedulerError.invalidValue(scheduler: scheduler, field: field, value: "\(beta)",
                                                      reason: "a noise variance must be within [0, 1)")
                }
            }
            switch config.betaSchedule {
            case .linear:
                betas = NumpyCompat.torchLinspaceFloat(config.betaStart, config.betaEnd, n)
            case .scaledLinear:
                betas = NumpyCompat.torchLinspaceFloat(config.betaStart.squareRoot(), config.betaEnd.squareRoot(), n).map { $0 * $0 }
            case .squaredcosCapV2:
                betas = NoiseSchedule.cosineBetas(n)
            }
        }
        if let bad = betas.firstIndex(where: { !($0 >= 0 && $0 < 1) }) {
            throw SchedulerError.invalidValue(scheduler: scheduler, field: config.trainedBetas == nil ? "beta_schedule" : "trained_betas",
                                              value: "(beta \(bad) is \(betas[bad]))", reason: "every beta must be within [0, 1)")
        }
        if config.rescaleBetasZeroSnr { betas = NoiseSchedule.rescaledToZeroTerminalSNR(betas) }
        self.init(betas: betas)
    }

    /// Training timesteps a config may ask for (diffusers' models use 1000).
    public static let maximumTrainTimesteps = 1_000_000

    public init(betas: [Float]) {
        self.betas = betas
        alphas = betas.map { 1 - $0 }
        var product = 1.0
        alphasCumprod = alphas.map { a in
            product *= Double(a)
            return Float(product)
        }
    }

    /// Glide's cosine schedule ("squaredcos_cap_v2"): betas from alpha_bar(t), capped at 0.999.
    static func cosineBetas(_ n: Int) -> [Float] {
        func alphaBar(_ t: Double) -> Double {
            let c = cos((t + 0.008) / 1.008 * Double.pi / 2)
            return c * c
        }
        return (0..<n).map { i in
            let t1 = Double(i) / Double(n), t2 = Double(i + 1) / Double(n)
            return Float(min(1 - alphaBar(t2) / alphaBar(t1), 0.999))
        }
    }

    /// Lin et al. (2023): shift and scale sqrt(alphas_cumprod) so the last timestep has zero
    /// signal, keeping the first; float32 as diffusers computes it.
    static func rescaledToZeroTerminalSNR(_ betas: [Float]) -> [Float] {
        var product = 1.0
        var sqrtBar: [Float] = betas.map { b in
            product *= Double(1 - b)
            return Float(product).squareRoot()
        }
        guard let first = sqrtBar.first, let last = sqrtBar.last else { return betas }
        let scale = first / (first - last)
        sqrtBar = sqrtBar.map { ($0 - last) * scale }
        let bar = sqrtBar.map { $0 * $0 }
        var alphas = [bar[0]]
        for i in 1..<bar.count { alphas.append(bar[i] / bar[i - 1]) }
        return alphas.map { 1 - $0 }
    }

    /// alphas_cumprod[t] for an integer training timestep t.
    func alphaCumprod(at t: Double, scheduler: String) throws -> Float {
        let i = Int(t)
        guard t == t.rounded(), i >= 0, i < alphasCumprod.count else {
            throw SchedulerError.timestepOutOfRange(scheduler: scheduler, timestep: t, numTrainTimesteps: alphasCumprod.count)
        }
        return alphasCumprod[i]
    }

    /// The training sigmas sqrt((1 - acp) / acp), float32, increasing with t.
    var trainingSigmas: [Float] {
        alphasCumprod.map { ((1 - $0) / $0).squareRoot() }
    }

    /// The noise level of integer training timestep t.
    func noiseLevel(at t: Double, scheduler: String) throws -> NoiseLevel {
        NoiseLevel(alphaProd: try alphaCumprod(at: t, scheduler: scheduler))
    }

    /// q(x_t | x_0): √ᾱ_t·original + √(1−ᾱ_t)·noise, [N, C, H, W].
    func addNoise(original: Tensor, noise: Tensor, timestep: Double, scheduler: String) throws -> Tensor {
        try checkSameShape(original, noise, scheduler: scheduler)
        let level = try noiseLevel(at: timestep, scheduler: scheduler)
        return original * level.signal + noise * level.noise
    }

    /// diffusers' `get_velocity`: the v-prediction target at training timestep t.
    func velocity(sample: Tensor, noise: Tensor, timestep: Double, scheduler: String) throws -> Tensor {
        try checkSameShape(sample, noise, scheduler: scheduler)
        let acp = try alphaCumprod(at: timestep, scheduler: scheduler)
        return PredictionType.vPrediction.target(original: sample, noise: noise, alphaProd: acp)
    }
}

func checkSameShape(_ a: Tensor, _ b: Tensor, scheduler: String, what: String = "noise") throws {
    guard a.shape == b.shape else {
        throw SchedulerError.shapeMismatch(scheduler: scheduler, what: what, expected: a.shape, got: b.shape)
    }
}
