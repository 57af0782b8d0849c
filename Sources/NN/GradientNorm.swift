// Global gradient norm, for clipping (the scale goes to the optimiser, not into the gradients).
import Foundation
import TensorCore

/// The L2 norm of all gradients together.
public func gradientNorm(_ parameters: [(key: String, parameter: Parameter)]) -> Float {
    var total = 0.0
    for (_, parameter) in parameters {
        guard let g = parameter.grad else { continue }
        let p = g.pointer
        var sum: Float = 0
        for i in 0..<g.count { sum += p[i] * p[i] }
        total += Double(sum)
    }
    return Float(total.squareRoot())
}

/// The factor that brings a gradient of norm `norm` down to at most `maxNorm` (PyTorch's
/// clip_grad_norm_: maxNorm / (norm + 1e-6) when larger).
public func clippingScale(norm: Float, maxNorm: Float) -> Float {
    guard maxNorm > 0, norm.isFinite else { return norm.isFinite ? 1 : 0 }
    return norm > maxNorm ? maxNorm / (norm + 1e-6) : 1
}
