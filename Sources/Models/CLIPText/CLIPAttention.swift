// Matches transformers CLIPAttention: multi-head self-attention with q/k/v/out_proj, causal mask.
import NN
import TensorCore

public final class CLIPAttention: Module {
    public let heads: Int
    public let headDim: Int
    public let qProj: Linear, kProj: Linear, vProj: Linear, outProj: Linear

    init(config: CLIPTextConfig, initializer: inout Initializer) {
        let d = config.hiddenSize
        heads = config.numAttentionHeads
        headDim = d / heads
        qProj = Linear(d, d, initializer: &initializer)
        kProj = Linear(d, d, initializer: &initializer)
        vProj = Linear(d, d, initializer: &initializer)
        outProj = Linear(d, d, initializer: &initializer)
    }

    public var children: [(String, Module)] {
        [("k_proj", kProj), ("v_proj", vProj), ("q_proj", qProj), ("out_proj", outProj)]
    }

    /// x [B, L, D] → [B, L, D]; each position attends to itself and earlier ones only.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, l) = (x.shape[0], x.shape[1])
        let q = splitHeads(qProj(x)), k = splitHeads(kProj(x)), v = splitHeads(vProj(x))   // [B·h, L, dh]
        let out = Tensor.attention(q, k, v, scale: 1 / Float(headDim).squareRoot(), causal: true)
        let merged = out.reshaped([b, heads, l, headDim]).permuted([0, 2, 1, 3]).reshaped([b, l, heads * headDim])
        return outProj(merged)
    }

    /// [B, L, h·dh] → [B·h, L, dh]
    private func splitHeads(_ t: Tensor) -> Tensor {
        let (b, l) = (t.shape[0], t.shape[1])
        return t.reshaped([b, l, heads, headDim]).permuted([0, 2, 1, 3]).reshaped([b * heads, l, headDim])
    }
}
