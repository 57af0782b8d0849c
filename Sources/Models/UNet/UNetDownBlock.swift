// Encoder stage of the U-Net; matches diffusers DownBlock2D and CrossAttnDownBlock2D.
import NN
import TensorCore

public final class UNetDownBlock: Module {
    public let resnets: [UNetResnetBlock]
    /// One spatial transformer after each resnet (CrossAttnDownBlock2D), none for DownBlock2D.
    public let attentions: [UNetTransformer2D]
    public let downsampler: UNetDownsample?

    public init(layout: UNetConfig.BlockLayout, config: UNetConfig, timeEmbedDim: Int, groups: Int,
                initializer: inout Initializer) {
        let eps = Float(config.normEps)
        var resnets: [UNetResnetBlock] = []
        var attentions: [UNetTransformer2D] = []
        for i in 0..<layout.resnetCount {
            resnets.append(UNetResnetBlock(inChannels: i == 0 ? layout.inChannels : layout.outChannels,
                                           outChannels: layout.outChannels, timeEmbedDim: timeEmbedDim,
                                           groups: groups, eps: eps, initializer: &initializer))
            if layout.hasCrossAttention {
                attentions.append(UNetTransformer2D(channels: layout.outChannels, heads: layout.heads,
                                                    layers: layout.transformerLayers,
                                                    crossAttentionDim: layout.crossAttentionDim, groups: groups,
                                                    useLinearProjection: config.useLinearProjection,
                                                    initializer: &initializer))
            }
        }
        self.resnets = resnets
        self.attentions = attentions
        downsampler = layout.resamples
            ? UNetDownsample(channels: layout.outChannels, padding: config.downsamplePadding, initializer: &initializer) : nil
    }

    public var children: [(String, Module)] {
        var result = numbered("attentions", attentions) + numbered("resnets", resnets)
        if let downsampler { result.append(("downsamplers.0", downsampler)) }
        return result
    }

    /// x [N, Cin, H, W] → (output [N, Cout, H', W'], the states the up blocks take as skips:
    /// one per resnet, plus the downsampled map).
    public func callAsFunction(_ x: Tensor, activatedTimeEmbedding temb: Tensor, context: Tensor) -> (Tensor, [Tensor]) {
        var h = x
        var states: [Tensor] = []
        for (i, resnet) in resnets.enumerated() {
            h = resnet(h, activatedTimeEmbedding: temb)
            if !attentions.isEmpty { h = attentions[i](h, context: context) }
            states.append(h)
        }
        if let downsampler {
            h = downsampler(h)
            states.append(h)
        }
        return (h, states)
    }
}
