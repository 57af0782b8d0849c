// Seeded parameter initialisation (PyTorch's defaults: uniform ±1/√fan_in).
import Foundation
import TensorCore

/// A small seeded generator (SplitMix64) for initial weights; reproducible per seed. Without
/// a seed it makes zeros: for models whose weights are about to be loaded from a file.
public struct Initializer {
    private var state: UInt64
    private let fills: Bool
    public init(seed: UInt64?) {
        state = seed ?? 0
        fills = seed != nil
    }

    public mutating func nextUniform() -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 24)
    }

    /// U(-bound, bound) of the given shape.
    public mutating func uniform(_ shape: [Int], bound: Float) -> Tensor {
        guard fills else { return Tensor.zeros(shape) }
        let t = Tensor(uninitializedShape: shape), values = t.pointer
        for i in 0..<t.count { values[i] = (2 * nextUniform() - 1) * bound }
        return t
    }

    /// N(0, std²) of the given shape (Box–Muller).
    public mutating func normal(_ shape: [Int], std: Float) -> Tensor {
        guard fills else { return Tensor.zeros(shape) }
        let t = Tensor(uninitializedShape: shape), values = t.pointer
        for i in 0..<t.count {
            let u1 = Swift.max(nextUniform(), 1e-7), u2 = nextUniform()
            values[i] = std * (-2 * logf(u1)).squareRoot() * cosf(2 * Float.pi * u2)
        }
        return t
    }
}
