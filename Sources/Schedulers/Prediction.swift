// The one place a model output becomes x̂₀, ε̂ or a training target, for every prediction type.
import TensorCore

/// A noisy sample x_t = signal·x₀ + noise·ε: variance-preserving schedulers use
/// (√ᾱ, √(1−ᾱ)); DPM-Solver uses (α_t, σ_t) from its sigma.
public struct NoiseLevel {
    public var signal: Float
    public var noise: Float

    public init(signal: Float, noise: Float) {
        self.signal = signal
        self.noise = noise
    }

    /// The level of alphas_cumprod[t] = ᾱ.
    public init(alphaProd: Float) {
        self.init(signal: alphaProd.squareRoot(), noise: (1 - alphaProd).squareRoot())
    }
}

extension PredictionType {
    /// x̂₀ from a model output on a variance-preserving sample x_t ([N, C, H, W] both):
    /// ε: (x − noise·ε̂)/signal; v: signal·x − noise·v̂; sample: the output itself.
    public func original(modelOutput: Tensor, sample: Tensor, level: NoiseLevel) -> Tensor {
        switch self {
        case .epsilon: return (sample - modelOutput * level.noise) / level.signal
        case .vPrediction: return sample * level.signal - modelOutput * level.noise
        case .sample: return modelOutput
        }
    }

    /// x̂₀ from a model output on a variance-exploding sample x = x₀ + σ·ε (the Karras-style
    /// samplers, whose model input is x/√(σ²+1)).
    public func original(modelOutput: Tensor, sample: Tensor, sigma: Float) -> Tensor {
        switch self {
        case .epsilon: return sample - modelOutput * sigma
        case .vPrediction: return modelOutput * (-sigma / (sigma * sigma + 1).squareRoot()) + sample / (sigma * sigma + 1)
        case .sample: return modelOutput
        }
    }

    /// ε̂ that goes with `original` (DDIM's `pred_epsilon`, PNDM's ε).
    public func epsilon(modelOutput: Tensor, sample: Tensor, original: Tensor, level: NoiseLevel) -> Tensor {
        switch self {
        case .epsilon: return modelOutput
        case .vPrediction: return modelOutput * level.signal + sample * level.noise
        case .sample: return (sample - original * level.signal) / level.noise
        }
    }

    /// What the model is trained to output for clean x₀ noised with ε: ε, the velocity
    /// √ᾱ·ε − √(1−ᾱ)·x₀ (diffusers' `get_velocity`), or x₀. `alphaProd` is a scalar or one
    /// ᾱ per batch item ([N, 1, 1, 1]).
    public func target(original: Tensor, noise: Tensor, alphaProd: Tensor) -> Tensor {
        switch self {
        case .epsilon: return noise
        case .vPrediction: return noise * alphaProd.sqrt() - original * (1 - alphaProd).sqrt()
        case .sample: return original
        }
    }

    /// The training target at one ᾱ for the whole batch.
    public func target(original: Tensor, noise: Tensor, alphaProd: Float) -> Tensor {
        let level = NoiseLevel(alphaProd: alphaProd)
        switch self {
        case .epsilon: return noise
        case .vPrediction: return noise * level.signal - original * level.noise
        case .sample: return original
        }
    }
}
