// Residual block with a timestep input; matches diffusers ResnetBlock2D (time_embedding_norm "default").
import NN
import TensorCore

public final class UNetResnetBlock: Module {
    public let norm1: GroupNorm
    public let conv1: Conv2d
    public let timeEmbProj: Linear
    public let norm2: GroupNorm
    public let conv2: Conv2d
    /// A 1×1 convolution when the channel count changes.
    public let convShortcut: Conv2d?
    public let outputScaleFactor: Float

    public init(inChannels: Int, outChannels: Int, timeEmbedDim: Int, groups: Int, eps: Float,
                outputScaleFactor: Float = 1, initializer: inout Initializer) {
        norm1 = GroupNorm(groups: groups, channels: inChannels, eps: eps)
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, initializer: &initializer)
        timeEmbProj = Linear(timeEmbedDim, outChannels, initializer: &initializer)
        norm2 = GroupNorm(groups: groups, channels: outChannels, eps: eps)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, initializer: &initializer)
        convShortcut = inChannels == outChannels ? nil
            : Conv2d(inChannels, outChannels, kernelSize: 1, initializer: &initializer)
        self.outputScaleFactor = outputScaleFactor
    }

    public var children: [(String, Module)] {
        var result: [(String, Module)] = [("norm1", norm1), ("conv1", conv1), ("time_emb_proj", timeEmbProj),
                                          ("norm2", norm2), ("conv2", conv2)]
        if let convShortcut { result.append(("conv_shortcut", convShortcut)) }
        return result
    }

    /// x [N, Cin, H, W], `activatedTimeEmbedding` = SiLU(temb) [N, T] (diffusers applies the
    /// nonlinearity to temb inside every block; the U-Net computes it once) → [N, Cout, H, W].
    public func callAsFunction(_ x: Tensor, activatedTimeEmbedding: Tensor) -> Tensor {
        var h = conv1(norm1(x, silu: true))                                            // [N, Cout, H, W]
        let t = timeEmbProj(activatedTimeEmbedding)                                     // [N, Cout]
        h = h + t.reshaped([t.shape[0], t.shape[1], 1, 1])
        h = conv2(norm2(h, silu: true))                                                // dropout p = 0
        let shortcut = convShortcut.map { $0(x) } ?? x
        let sum = shortcut + h
        return outputScaleFactor == 1 ? sum : sum / outputScaleFactor
    }
}
