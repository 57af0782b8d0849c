// Matches diffusers Encoder (double_z): conv_in, down blocks, mid block, norm, act, conv_out → 2·latent channels.
import NN
import TensorCore

public final class VAEEncoder: Module {
    public let convIn: Conv2d
    public let downBlocks: [DownEncoderBlock2D]
    public let midBlock: VAEMidBlock2D
    public let convNormOut: GroupNorm
    public let convOut: Conv2d
    public let activation: ResnetActivation

    /// `config` must have passed `validate()`.
    init(config: AutoencoderKLConfig, activation: ResnetActivation, initializer: inout Initializer) {
        let channels = config.blockOutChannels, groups = config.normNumGroups
        self.activation = activation
        convIn = Conv2d(config.inChannels, channels[0], kernelSize: 3, padding: 1, initializer: &initializer)
        var blocks: [DownEncoderBlock2D] = []
        for (i, out) in channels.enumerated() {
            blocks.append(DownEncoderBlock2D(inChannels: i == 0 ? channels[0] : channels[i - 1], outChannels: out,
                                             layers: config.layersPerBlock, groups: groups,
                                             addDownsample: i < channels.count - 1, activation: activation,
                                             initializer: &initializer))
        }
        downBlocks = blocks
        let last = channels[channels.count - 1]
        midBlock = VAEMidBlock2D(channels: last, groups: groups, addAttention: config.midBlockAddAttention,
                                 activation: activation, initializer: &initializer)
        convNormOut = GroupNorm(groups: groups, channels: last, eps: 1e-6)
        convOut = Conv2d(last, 2 * config.latentChannels, kernelSize: 3, padding: 1, initializer: &initializer)
    }

    public var children: [(String, Module)] {
        [("conv_in", convIn)] + numbered("down_blocks", downBlocks)
            + [("mid_block", midBlock), ("conv_norm_out", convNormOut), ("conv_out", convOut)]
    }

    /// x [N, Cin, H, W] → moments [N, 2·latent, H/f, W/f]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = convIn(x)
        for block in downBlocks { h = block(h) }
        h = midBlock(h)
        h = activation.afterNorm(convNormOut, h)
        return convOut(h)
    }
}
