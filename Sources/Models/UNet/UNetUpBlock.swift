// Decoder stage of the U-Net; matches diffusers UpBlock2D and CrossAttnUpBlock2D.
import NN
import TensorCore

public final class UNetUpBlock: Module {
    public let resnets: [ResnetBlock2D]
    /// One spatial transformer after each resnet (CrossAttnUpBlock2D), none for UpBlock2D.
    public let attentions: [UNetTransformer2D]
    public let upsampler: UNetUpsample?

    public init(layout: UNetConfig.BlockLayout, config: UNetConfig, timeEmbedDim: Int, groups: Int,
                initializer: inout Initializer) {
        // Each resnet takes the previous output and a skip; the last skip comes from the block
        // before the matching down block.
        let last = layout.resnetCount - 1
        func inputChannels(_ i: Int) -> Int {
            (i == 0 ? layout.previousOutChannels : layout.outChannels) + (i == last ? layout.inChannels : layout.outChannels)
        }
        (resnets, attentions) = layout.layers(inputChannels: inputChannels, config: config, timeEmbedDim: timeEmbedDim,
                                              groups: groups, initializer: &initializer)
        upsampler = layout.resamples ? UNetUpsample(channels: layout.outChannels, initializer: &initializer) : nil
    }

    public var children: [(String, Module)] {
        var result = numbered("attentions", attentions) + numbered("resnets", resnets)
        if let upsampler { result.append(("upsamplers.0", upsampler)) }
        return result
    }

    /// x [N, Cprev, H, W] and `skips` (one per resnet, the last consumed first) → [N, Cout, H', W'].
    public func callAsFunction(_ x: Tensor, skips: [Tensor], activatedTimeEmbedding temb: Tensor, context: Tensor) -> Tensor {
        var h = x
        for (i, resnet) in resnets.enumerated() {
            let skip = skips[skips.count - 1 - i]
            h = resnet(Tensor.concat([h, skip], axis: 1), activatedTimeEmbedding: temb)   // [N, C + Cskip, H, W] in
            if !attentions.isEmpty { h = attentions[i](h, context: context) }
        }
        return upsampler.map { $0(h) } ?? h
    }
}
