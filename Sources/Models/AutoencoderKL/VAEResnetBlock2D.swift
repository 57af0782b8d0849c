// Matches diffusers ResnetBlock2D as the VAE uses it: no time embedding, output_scale_factor 1.
import NN
import TensorCore

public final class VAEResnetBlock2D: Module {
    public let norm1: GroupNorm, conv1: Conv2d
    public let norm2: GroupNorm, conv2: Conv2d
    /// 1×1 projection of the input when the channel count changes.
    public let convShortcut: Conv2d?
    public let activation: VAEActivation

    public init(inChannels: Int, outChannels: Int, groups: Int, eps: Float = 1e-6, activation: VAEActivation,
                initializer: inout Initializer) {
        norm1 = GroupNorm(groups: groups, channels: inChannels, eps: eps)
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, initializer: &initializer)
        norm2 = GroupNorm(groups: groups, channels: outChannels, eps: eps)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, initializer: &initializer)
        convShortcut = inChannels == outChannels ? nil
            : Conv2d(inChannels, outChannels, kernelSize: 1, initializer: &initializer)
        self.activation = activation
    }

    public var children: [(String, Module)] {
        var list: [(String, Module)] = [("norm1", norm1), ("conv1", conv1), ("norm2", norm2), ("conv2", conv2)]
        if let convShortcut { list.append(("conv_shortcut", convShortcut)) }
        return list
    }

    /// x [N, Cin, H, W] → [N, Cout, H, W]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = normAct(norm1, x)
        h = conv1(h)
        h = normAct(norm2, h)
        h = conv2(h)
        return (convShortcut.map { $0(x) } ?? x) + h
    }

    /// Group norm followed by the nonlinearity (fused when it is SiLU).
    private func normAct(_ norm: GroupNorm, _ x: Tensor) -> Tensor {
        activation == .silu ? norm(x, silu: true) : activation(norm(x))
    }
}
