// Embedding table (PyTorch nn.Embedding; weight [count, dim]).
import TensorCore

public final class Embedding: Module {
    public let weight: Parameter   // [count, dim]

    public init(_ count: Int, _ dim: Int, initializer: inout Initializer) {
        weight = Parameter(initializer.normal([count, dim], std: 0.02))
    }

    public var parameters: [(String, Parameter)] { [("weight", weight)] }

    /// ids shaped `shape` → shape + [dim]
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        Tensor.embedding(weight.value, ids: ids, idsShape: shape)
    }
}
