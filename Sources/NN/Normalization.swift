// Normalisation layers: GroupNorm (optionally fused with SiLU) and LayerNorm.
import TensorCore

public final class GroupNorm: Module {
    public let groups: Int
    public let eps: Float
    public let weight: Parameter   // [C]
    public let bias: Parameter     // [C]

    public init(groups: Int, channels: Int, eps: Float = 1e-5) {
        self.groups = groups
        self.eps = eps
        weight = Parameter(.ones([channels]))
        bias = Parameter(.zeros([channels]))
    }

    public var parameters: [(String, Parameter)] { [("weight", weight), ("bias", bias)] }

    /// [N, C, ...] → same shape; `silu` applies SiLU in the same pass.
    public func callAsFunction(_ x: Tensor, silu: Bool = false) -> Tensor {
        x.groupNorm(groups: groups, weight: weight.value, bias: bias.value, eps: eps, silu: silu)
    }
}

public final class LayerNorm: Module {
    public let eps: Float
    public let weight: Parameter   // [D]
    public let bias: Parameter     // [D]

    public init(_ dim: Int, eps: Float = 1e-5) {
        self.eps = eps
        weight = Parameter(.ones([dim]))
        bias = Parameter(.zeros([dim]))
    }

    public var parameters: [(String, Parameter)] { [("weight", weight), ("bias", bias)] }

    /// [..., D] → same shape
    public func callAsFunction(_ x: Tensor) -> Tensor {
        x.layerNorm(weight: weight.value, bias: bias.value, eps: eps)
    }
}
