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
        let out = Tensor.attention(qProj(x), kProj(x), vProj(x), heads: heads,                // [B, L, h·dh]
                                   scale: 1 / Float(headDim).squareRoot(), causal: true)
        return outProj(out)
    }
}
