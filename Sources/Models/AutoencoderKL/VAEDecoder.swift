// Matches diffusers Decoder: conv_in, mid block, up blocks (reversed channels), norm, act, conv_out.
import NN
import TensorCore

public final class VAEDecoder: Module {
    public let convIn: Conv2d
    public let midBlock: VAEMidBlock2D
    public let upBlocks: [UpDecoderBlock2D]
    public let convNormOut: GroupNorm
    public let convOut: Conv2d
    public let activation: ResnetActivation

    /// `config` must have passed `validate()`.
    init(config: AutoencoderKLConfig, activation: ResnetActivation, initializer: inout Initializer) {
        let reversed = Array(config.blockOutChannels.reversed()), groups = config.normNumGroups
        self.activation = activation
        convIn = Conv2d(config.latentChannels, reversed[0], kernelSize: 3, padding: 1, initializer: &initializer)
        midBlock = VAEMidBlock2D(channels: reversed[0], groups: groups, addAttention: config.midBlockAddAttention,
                                 activation: activation, initializer: &initializer)
        var blocks: [UpDecoderBlock2D] = []
        for (i, out) in reversed.enumerated() {
            blocks.append(UpDecoderBlock2D(inChannels: i == 0 ? reversed[0] : reversed[i - 1], outChannels: out,
                                           layers: config.layersPerBlock + 1, groups: groups,
                                           addUpsample: i < reversed.count - 1, activation: activation,
                                           initializer: &initializer))
        }
        upBlocks = blocks
        let first = config.blockOutChannels[0]
        convNormOut = GroupNorm(groups: groups, channels: first, eps: 1e-6)
        convOut = Conv2d(first, config.outChannels, kernelSize: 3, padding: 1, initializer: &initializer)
    }

    public var children: [(String, Module)] {
        [("conv_in", convIn), ("mid_block", midBlock)] + numbered("up_blocks", upBlocks)
            + [("conv_norm_out", convNormOut), ("conv_out", convOut)]
    }

    /// z [N, latent, h, w] → image [N, Cout, h·f, w·f]
    public func callAsFunction(_ z: Tensor) -> Tensor {
        var h = convIn(z)
        h = midBlock(h)
        for block in upBlocks { h = block(h) }
        h = activation.afterNorm(convNormOut, h)
        return convOut(h)
    }
}
