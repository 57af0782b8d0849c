// Spatial transformer of the U-Net; matches diffusers Transformer2DModel (continuous input, GroupNorm eps 1e-6).
import NN
import TensorCore

public final class UNetTransformer2D: Module {
    public let norm: GroupNorm
    public let projIn: Projection
    public let transformerBlocks: [UNetTransformerBlock]
    public let projOut: Projection
    public let channels: Int

    public init(channels: Int, heads: Int, layers: Int, crossAttentionDim: Int, groups: Int,
                useLinearProjection: Bool, initializer: inout Initializer) {
        self.channels = channels
        let inner = channels   // heads × (channels / heads)
        norm = GroupNorm(groups: groups, channels: channels, eps: 1e-6)
        projIn = useLinearProjection ? .linear(Linear(channels, inner, initializer: &initializer))
            : .conv(Conv2d(channels, inner, kernelSize: 1, initializer: &initializer))
        transformerBlocks = (0..<layers).map { _ in
            UNetTransformerBlock(dim: inner, heads: heads, headDim: inner / heads,
                                 crossAttentionDim: crossAttentionDim, initializer: &initializer)
        }
        projOut = useLinearProjection ? .linear(Linear(inner, channels, initializer: &initializer))
            : .conv(Conv2d(inner, channels, kernelSize: 1, initializer: &initializer))
    }

    /// The transformer a cross-attention block of `layout` puts after each resnet.
    convenience init(block layout: UNetConfig.BlockLayout, config: UNetConfig, groups: Int, initializer: inout Initializer) {
        self.init(channels: layout.outChannels, heads: layout.heads, layers: layout.transformerLayers,
                  crossAttentionDim: layout.crossAttentionDim, groups: groups,
                  useLinearProjection: config.useLinearProjection, initializer: &initializer)
    }

    public var children: [(String, Module)] {
        [("norm", norm), ("proj_in", projIn.module)] + numbered("transformer_blocks", transformerBlocks)
            + [("proj_out", projOut.module)]
    }

    /// x [N, C, H, W], context [N, S, D] → [N, C, H, W]. The map is laid out as tokens
    /// [N, HW, C] once on entry and back once on exit; everything between works on tokens.
    public func callAsFunction(_ x: Tensor, context: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let tokens = norm(x).reshaped([n, c, h * w]).permuted([0, 2, 1])     // [N, HW, C]
        var hidden = projIn(tokens)                                          // [N, HW, inner]
        for block in transformerBlocks { hidden = block(hidden, context: context) }
        hidden = projOut(hidden)                                             // [N, HW, C]
        return hidden.permuted([0, 2, 1]).reshaped([n, c, h, w]) + x
    }

    /// proj_in/proj_out: a Linear (`use_linear_projection`) or a 1×1 Conv2d, the same matrix
    /// product on tokens.
    public enum Projection {
        case linear(Linear)
        case conv(Conv2d)

        public var module: Module {
            switch self {
            case .linear(let layer): return layer
            case .conv(let layer): return layer
            }
        }

        /// [N, L, in] → [N, L, out]
        public func callAsFunction(_ x: Tensor) -> Tensor {
            switch self {
            case .linear(let layer): return layer(x)
            case .conv(let layer):
                let (out, input) = (layer.weight.shape[0], layer.weight.shape[1])
                let y = Tensor.linear(x.reshaped([-1, input]), weight: layer.weight.value.reshaped([out, input]),
                                      bias: layer.bias?.value, weightIsParameter: true)  // [N·L, out]
                return y.reshaped([x.shape[0], x.shape[1], out])
            }
        }
    }
}
