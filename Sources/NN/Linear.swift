// Linear layer y = x·Wᵀ + b (PyTorch nn.Linear; weight [out, in]).
import TensorCore

public final class Linear: Module {
    public let weight: Parameter   // [out, in]
    public let bias: Parameter?    // [out]
    /// A LoRA being trained on this layer, applied unmerged (not a child: the base keys stay as they are).
    public var adapter: LoRALayer?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, initializer: inout Initializer) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(weight: initializer.uniform([outFeatures, inFeatures], bound: bound))
        self.bias = bias ? Parameter(initializer.uniform([outFeatures], bound: bound)) : nil
    }

    public var parameters: [(String, Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// [..., in] → [..., out]. `outputInBFloat16`: under native bf16, stored in bf16 for a reader
    /// that takes it (`Tensor.linear`); not with an adapter, whose sum is float32.
    public func callAsFunction(_ x: Tensor, outputInBFloat16: Bool = false) -> Tensor {
        let rows = x.reshaped([-1, weight.shape[1]])   // [M, in]
        var out = Tensor.linear(rows, weight: weight.value, bias: bias?.value, weightIsParameter: true,
                                outputInBFloat16: outputInBFloat16 && adapter == nil)
        if let adapter { out = out + adapter(rows) }
        return out.reshaped(Array(x.shape.dropLast()) + [weight.shape[0]])
    }
}
