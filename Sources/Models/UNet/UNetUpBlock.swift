// Decoder stage of the U-Net; matches diffusers UpBlock2D and CrossAttnUpBlock2D.
import NN
import TensorCore

public final class UNetUpBlock: Module {
    public let resnets: [UNetResnetBlock]
    /// One spatial transformer after each resnet (CrossAttnUpBlock2D), none for UpBlock2D.
    public let attentions: [UNetTransformer2D]
    public let upsampler: UNetUpsample?

    public init(layout: UNetConfig.BlockLayout, config: UNetConfig, timeEmbedDim: Int, groups: Int,
                initializer: inout Initializer) {
        let eps = Float(config.normEps)
        var resnets: [UNetResnetBlock] = []
        var attentions: [UNetTransformer2D] = []
        let count = layout.resnetCount
        for i in 0..<count {
            // The skip of the last resnet comes from the block before the matching down block.
            let skipChannels = i == count - 1 ? layout.inChannels : layout.outChannels
            let inputChannels = i == 0 ? layout.previousOutChannels : layout.outChannels
            resnets.append(UNetResnetBlock(inChannels: inputChannels + skipChannels, outChannels: layout.outChannels,
                                           timeEmbedDim: timeEmbedDim, groups: groups, eps: eps,
                                           initializer: &initializer))
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
