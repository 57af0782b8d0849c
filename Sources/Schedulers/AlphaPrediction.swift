// Converts a model output to x0 (and epsilon) for the alpha-based schedulers.

/// The three prediction types diffusers understands, as alpha_prod_t-based formulas in
/// float32 (the scalars are 0-d float32 tensors in diffusers).
enum AlphaPrediction {
    /// x0 from `modelOutput` given alpha_prod_t.
    static func original(_ type: String, sample: [Float], modelOutput: [Float], alphaProd: Float) -> [Float] {
        let sqrtAlpha = alphaProd.squareRoot(), sqrtBeta = (1 - alphaProd).squareRoot()
        switch type {
        case "sample":
            return modelOutput
        case "v_prediction":
            return zip(sample, modelOutput).map { sqrtAlpha * $0 - sqrtBeta * $1 }
        default:  // epsilon
            return zip(sample, modelOutput).map { ($0 - sqrtBeta * $1) / sqrtAlpha }
        }
    }

    /// The noise estimate that goes with `original` (DDIM's `pred_epsilon`).
    static func epsilon(_ type: String, sample: [Float], modelOutput: [Float], original: [Float], alphaProd: Float) -> [Float] {
        let sqrtAlpha = alphaProd.squareRoot(), sqrtBeta = (1 - alphaProd).squareRoot()
        switch type {
        case "sample":
            return zip(sample, original).map { ($0 - sqrtAlpha * $1) / sqrtBeta }
        case "v_prediction":
            return zip(modelOutput, sample).map { sqrtAlpha * $0 + sqrtBeta * $1 }
        default:
            return modelOutput
        }
    }
}

/// Converts a model output to x0 for the sigma-based (Karras-style) schedulers.
enum SigmaPrediction {
    static func original(_ type: String, sample: [Float], modelOutput: [Float], sigma: Float) -> [Float] {
        switch type {
        case "sample":
            return modelOutput
        case "v_prediction":
            let outScale = -sigma / (sigma * sigma + 1).squareRoot()
            let inScale = sigma * sigma + 1
            return zip(modelOutput, sample).map { $0 * outScale + $1 / inScale }
        default:  // epsilon
            return zip(sample, modelOutput).map { $0 - sigma * $1 }
        }
    }

    /// sample / sqrt(sigma^2 + 1), the model input of the sigma-based schedulers.
    static func scaled(_ sample: [Float], sigma: Float) -> [Float] {
        let scale = (sigma * sigma + 1).squareRoot()
        return sample.map { $0 / scale }
    }

    /// init_noise_sigma: max sigma for linspace/trailing spacing, sqrt(max^2 + 1) for leading.
    static func initNoiseSigma(_ sigmas: [Float], spacing: String) -> Float {
        let maxSigma = sigmas.max() ?? 1
        if spacing == "linspace" || spacing == "trailing" { return maxSigma }
        return (maxSigma * maxSigma + 1).squareRoot()
    }
}
