// 2-D convolution layer (PyTorch nn.Conv2d; weight [out, in, kh, kw], NCHW).
import TensorCore

public final class Conv2d: Module {
    public let weight: Parameter   // [out, in, k, k]
    public let bias: Parameter?    // [out]
    public let stride: Int
    public let padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, initializer: inout Initializer) {
        let bound = 1 / Float(inChannels * kernelSize * kernelSize).squareRoot()
        weight = Parameter(weight: initializer.uniform([outChannels, inChannels, kernelSize, kernelSize], bound: bound))
        self.bias = bias ? Parameter(initializer.uniform([outChannels], bound: bound)) : nil
        self.stride = stride
        self.padding = padding
    }

    public var parameters: [(String, Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// [N, in, H, W] → [N, out, H', W']
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.conv2d(x, weight.value, bias: bias?.value, stride: stride, padding: padding)
    }
}
