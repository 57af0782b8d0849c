// Matches transformers CLIPEncoderLayer: pre-norm self-attention and MLP, each with a residual.
import NN
import TensorCore

public final class CLIPEncoderLayer: Module {
    public let selfAttention: CLIPAttention
    public let layerNorm1: LayerNorm
    public let mlp: CLIPMLP
    public let layerNorm2: LayerNorm

    init(config: CLIPTextConfig, activation: CLIPActivation, initializer: inout Initializer) {
        let eps = Float(config.layerNormEps)
        selfAttention = CLIPAttention(config: config, initializer: &initializer)
        layerNorm1 = LayerNorm(config.hiddenSize, eps: eps)
        mlp = CLIPMLP(config: config, activation: activation, initializer: &initializer)
        layerNorm2 = LayerNorm(config.hiddenSize, eps: eps)
    }

    public var children: [(String, Module)] {
        [("self_attn", selfAttention), ("layer_norm1", layerNorm1), ("mlp", mlp), ("layer_norm2", layerNorm2)]
    }

    /// x [B, L, D] → [B, L, D]
    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = x + selfAttention(layerNorm1(x))
        return h + mlp(layerNorm2(h))
    }
}
