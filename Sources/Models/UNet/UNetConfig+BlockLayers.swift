// The resnets and spatial transformers of a U-Net down or up block, built from its layout (the loop
// diffusers' CrossAttnDownBlock2D and CrossAttnUpBlock2D share).
import NN
import TensorCore

extension UNetConfig.BlockLayout {
    /// `resnetCount` resnets, the i-th taking `inputChannels(i)` channels, each followed by a spatial
    /// transformer when the block cross-attends (weights drawn in that order, as diffusers builds them).
    func layers(inputChannels: (Int) -> Int, config: UNetConfig, timeEmbedDim: Int, groups: Int,
                initializer: inout Initializer) -> ([ResnetBlock2D], [UNetTransformer2D]) {
        var resnets: [ResnetBlock2D] = []
        var attentions: [UNetTransformer2D] = []
        for i in 0..<resnetCount {
            resnets.append(ResnetBlock2D(inChannels: inputChannels(i), outChannels: outChannels, timeEmbedDim: timeEmbedDim,
                                         groups: groups, eps: Float(config.normEps), initializer: &initializer))
            if hasCrossAttention {
                attentions.append(UNetTransformer2D(block: self, config: config, groups: groups, initializer: &initializer))
            }
        }
        return (resnets, attentions)
    }
}
