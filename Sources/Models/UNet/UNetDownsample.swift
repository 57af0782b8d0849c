// 2× downsampling by a strided 3×3 convolution; matches diffusers Downsample2D(use_conv=True).
import NN
import TensorCore

public final class UNetDownsample: Module {
    public let conv: Conv2d
    /// diffusers pads 0 on the left/top and 1 on the right/bottom when `padding` is 0.
    public let padding: Int

    public init(channels: Int, padding: Int, initializer: inout Initializer) {
        self.padding = padding
        conv = Conv2d(channels, channels, kernelSize: 3, stride: 2, padding: padding, initializer: &initializer)
    }

    public var children: [(String, Module)] { [("conv", conv)] }

    /// [N, C, H, W] → [N, C, H/2, W/2] (for even H, W and padding 0 or 1).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard padding == 0 else { return conv(x) }
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let right = Tensor.concat([x, Tensor.zeros([n, c, h, 1])], axis: 3)              // [N, C, H, W+1]
        return conv(Tensor.concat([right, Tensor.zeros([n, c, 1, w + 1])], axis: 2))     // [N, C, H+1, W+1] in
    }
}
