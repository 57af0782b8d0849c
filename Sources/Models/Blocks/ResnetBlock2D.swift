// Residual block of the U-Net and the VAE; matches diffusers ResnetBlock2D (time_embedding_norm "default").
import NN
import TensorCore

public final class ResnetBlock2D: Module {
    public let norm1: GroupNorm
    public let conv1: Conv2d
    /// The timestep projection; nil in the VAE (diffusers' `temb_channels=None`).
    public let timeEmbProj: Linear?
    public let norm2: GroupNorm
    public let conv2: Conv2d
    /// A 1×1 convolution when the channel count changes.
    public let convShortcut: Conv2d?
    public let activation: ResnetActivation
    public let outputScaleFactor: Float

    public init(inChannels: Int, outChannels: Int, timeEmbedDim: Int? = nil, groups: Int, eps: Float = 1e-6,
                activation: ResnetActivation = .silu, outputScaleFactor: Float = 1, initializer: inout Initializer) {
        norm1 = GroupNorm(groups: groups, channels: inChannels, eps: eps)
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, initializer: &initializer)
        timeEmbProj = timeEmbedDim.map { Linear($0, outChannels, initializer: &initializer) }
        norm2 = GroupNorm(groups: groups, channels: outChannels, eps: eps)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, initializer: &initializer)
        convShortcut = inChannels == outChannels ? nil
            : Conv2d(inChannels, outChannels, kernelSize: 1, initializer: &initializer)
        self.activation = activation
        self.outputScaleFactor = outputScaleFactor
    }

    /// `count` blocks without time embedding, the first taking `inChannels` (a VAE block's resnets).
    static func stack(count: Int, inChannels: Int, outChannels: Int, groups: Int, activation: ResnetActivation,
                      initializer: inout Initializer) -> [ResnetBlock2D] {
        var resnets: [ResnetBlock2D] = []
        for i in 0..<count {
            resnets.append(ResnetBlock2D(inChannels: i == 0 ? inChannels : outChannels, outChannels: outChannels,
                                         groups: groups, activation: activation, initializer: &initializer))
        }
        return resnets
    }

    public var children: [(String, Module)] {
        var result: [(String, Module)] = [("norm1", norm1), ("conv1", conv1)]
        if let timeEmbProj { result.append(("time_emb_proj", timeEmbProj)) }
        result += [("norm2", norm2), ("conv2", conv2)]
        if let convShortcut { result.append(("conv_shortcut", convShortcut)) }
        return result
    }

    /// x [N, Cin, H, W] and, with a time projection, `activatedTimeEmbedding` = SiLU(temb) [N, T]
    /// (diffusers applies the nonlinearity to temb inside every block; the U-Net computes it once)
    /// → [N, Cout, H, W].
    public func callAsFunction(_ x: Tensor, activatedTimeEmbedding: Tensor? = nil) -> Tensor {
        var h = conv1(activation.afterNorm(norm1, x))                                   // [N, Cout, H, W]
        if let timeEmbProj, let activatedTimeEmbedding {
            let t = timeEmbProj(activatedTimeEmbedding)                                 // [N, Cout]
            h = h + t.reshaped([t.shape[0], t.shape[1], 1, 1])
        }
        h = conv2(activation.afterNorm(norm2, h))                                       // dropout p = 0
        let sum = (convShortcut.map { $0(x) } ?? x) + h
        return outputScaleFactor == 1 ? sum : sum / outputScaleFactor
    }
}
