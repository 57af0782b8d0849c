// Losses (mean squared error, mean absolute error) and dropout.
import Foundation

extension Tensor {
    /// Mean of (self - target)² over all elements.
    public func mseLoss(_ target: Tensor) -> Tensor { (self - target).square().mean() }

    /// Mean of |self - target| over all elements.
    public func l1Loss(_ target: Tensor) -> Tensor { (self - target).abs().mean() }

    /// Zeroes each element with probability `p` and scales the rest by 1/(1-p) (training only).
    public func dropout(_ p: Float, seed: UInt64) -> Tensor {
        guard p > 0 else { return self }
        var state = seed
        let mask = Tensor(uninitializedShape: shape)
        let keep = 1 / (1 - p)
        for i in 0..<count {
            // SplitMix64: fast, seedable, good enough for dropout masks.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            mask.pointer[i] = Float(z >> 40) / Float(1 << 24) < p ? 0 : keep
        }
        return self * mask
    }
}
