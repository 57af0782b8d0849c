// Bottleneck of the U-Net; matches diffusers UNetMidBlock2DCrossAttn (resnet, transformer, resnet).
import NN
import TensorCore

public final class UNetMidBlock: Module {
    public let resnets: [ResnetBlock2D]
    public let attentions: [UNetTransformer2D]

    public init(layout: UNetConfig.BlockLayout, config: UNetConfig, timeEmbedDim: Int, groups: Int,
                initializer: inout Initializer) {
        let channels = layout.outChannels
        let eps = Float(config.normEps), scale = Float(config.midBlockScaleFactor)
        var resnets = [ResnetBlock2D(inChannels: channels, outChannels: channels, timeEmbedDim: timeEmbedDim, groups: groups,
                                     eps: eps, outputScaleFactor: scale, initializer: &initializer)]
        var attentions: [UNetTransformer2D] = []
        for _ in 1..<layout.resnetCount {
            attentions.append(UNetTransformer2D(block: layout, config: config, groups: groups, initializer: &initializer))
            resnets.append(ResnetBlock2D(inChannels: channels, outChannels: channels, timeEmbedDim: timeEmbedDim,
                                         groups: groups, eps: eps, outputScaleFactor: scale, initializer: &initializer))
        }
        self.resnets = resnets
        self.attentions = attentions
    }

    public var children: [(String, Module)] { numbered("attentions", attentions) + numbered("resnets", resnets) }

    /// [N, C, H, W] → [N, C, H, W]
    public func callAsFunction(_ x: Tensor, activatedTimeEmbedding temb: Tensor, context: Tensor) -> Tensor {
        var h = resnets[0](x, activatedTimeEmbedding: temb)
        for (attention, resnet) in zip(attentions, resnets.dropFirst()) {
            h = resnet(attention(h, context: context), activatedTimeEmbedding: temb)
        }
        return h
    }
}
