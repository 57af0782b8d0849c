// Encoder stage of the U-Net; matches diffusers DownBlock2D and CrossAttnDownBlock2D.
import NN
import TensorCore

public final class UNetDownBlock: Module {
    public let resnets: [ResnetBlock2D]
    /// One spatial transformer after each resnet (CrossAttnDownBlock2D), none for DownBlock2D.
    public let attentions: [UNetTransformer2D]
    public let downsampler: UNetDownsample?

    public init(layout: UNetConfig.BlockLayout, config: UNetConfig, timeEmbedDim: Int, groups: Int,
                initializer: inout Initializer) {
        (resnets, attentions) = layout.layers(inputChannels: { i in i == 0 ? layout.inChannels : layout.outChannels },
                                              config: config, timeEmbedDim: timeEmbedDim, groups: groups, initializer: &initializer)
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
