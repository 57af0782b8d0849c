// Transformer layer of the U-Net; matches diffusers BasicTransformerBlock (norm_type "layer_norm", GEGLU).
import NN
import TensorCore

public final class UNetTransformerBlock: Module {
    public let norm1: LayerNorm
    public let attn1: Attention
    public let norm2: LayerNorm
    public let attn2: Attention
    public let norm3: LayerNorm
    public let ff: UNetFeedForward

    public init(dim: Int, heads: Int, headDim: Int, crossAttentionDim: Int, initializer: inout Initializer) {
        norm1 = LayerNorm(dim, eps: 1e-5)
        attn1 = Attention(queryDim: dim, heads: heads, headDim: headDim, initializer: &initializer)
        norm2 = LayerNorm(dim, eps: 1e-5)
        attn2 = Attention(queryDim: dim, contextDim: crossAttentionDim, heads: heads, headDim: headDim, initializer: &initializer)
        norm3 = LayerNorm(dim, eps: 1e-5)
        ff = UNetFeedForward(dim: dim, innerDim: 4 * dim, initializer: &initializer)
    }

    public var children: [(String, Module)] {
        [("norm1", norm1), ("attn1", attn1), ("norm2", norm2), ("attn2", attn2), ("norm3", norm3), ("ff", ff)]
    }

    /// x [B, L, dim], context [B, S, crossAttentionDim] → [B, L, dim].
    public func callAsFunction(_ x: Tensor, context: Tensor) -> Tensor {
        var h = x + attn1(norm1(x))                       // self-attention
        h = h + attn2(norm2(h), context: context)         // cross-attention to the text
        return h + ff(norm3(h))
    }
}
