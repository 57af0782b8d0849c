// 2× upsampling: nearest neighbour then a 3×3 convolution; matches diffusers Upsample2D(use_conv=True).
import NN
import TensorCore

public final class UNetUpsample: Module {
    public let conv: Conv2d

    public init(channels: Int, initializer: inout Initializer) {
        conv = Conv2d(channels, channels, kernelSize: 3, padding: 1, initializer: &initializer)
    }

    public var children: [(String, Module)] { [("conv", conv)] }

    /// [N, C, H, W] → [N, C, 2H, 2W]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv(x.upsampledNearest2x())
    }
}
