// Matches diffusers Attention as the VAE mid block builds it: one head over all H·W positions,
// group_norm first, residual added, rescale_output_factor 1, biased projections.
import NN
import TensorCore

public final class VAEAttentionBlock: Module {
    public let groupNorm: GroupNorm
    public let attention: Attention

    public init(channels: Int, groups: Int, eps: Float = 1e-6, initializer: inout Initializer) {
        groupNorm = GroupNorm(groups: groups, channels: channels, eps: eps)
        attention = Attention(queryDim: channels, heads: 1, headDim: channels, bias: true, initializer: &initializer)
    }

    /// group_norm, to_q, to_k, to_v, to_out.0 directly under this block, as diffusers keys them.
    public var children: [(String, Module)] { [("group_norm", groupNorm)] + attention.children }

    /// x [N, C, H, W] → [N, C, H, W]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let tokens = groupNorm(x).reshaped([n, c, h * w]).transposed(1, 2)   // [N, HW, C]
        let attended = attention(tokens)                                      // [N, HW, C]
        return attended.transposed(1, 2).reshaped([n, c, h, w]) + x
    }
}
