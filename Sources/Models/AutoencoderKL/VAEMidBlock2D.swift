// Matches diffusers UNetMidBlock2D without time embedding: resnet, (attention), resnet.
import NN
import TensorCore

public final class VAEMidBlock2D: Module {
    public let resnets: [ResnetBlock2D]
    /// nil when mid_block_add_attention is false (diffusers then has no attention weights).
    public let attention: VAEAttentionBlock?

    public init(channels: Int, groups: Int, addAttention: Bool, activation: ResnetActivation, initializer: inout Initializer) {
        let first = ResnetBlock2D(inChannels: channels, outChannels: channels, groups: groups,
                                  activation: activation, initializer: &initializer)
        attention = addAttention ? VAEAttentionBlock(channels: channels, groups: groups, initializer: &initializer) : nil
        let second = ResnetBlock2D(inChannels: channels, outChannels: channels, groups: groups,
                                   activation: activation, initializer: &initializer)
        resnets = [first, second]
    }

    public var children: [(String, Module)] {
        numbered("resnets", resnets) + (attention.map { [("attentions.0", $0)] } ?? [])
    }

    /// x [N, C, H, W] → [N, C, H, W]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = resnets[0](x)
        if let attention { h = attention(h) }
        return resnets[1](h)
    }
}
