// The nonlinearity a config's act_fn names (diffusers get_activation), as resnet blocks and VAE norms use it.
import NN
import TensorCore

public enum ResnetActivation: Equatable {
    case silu, gelu, relu

    /// The names `init(name:)` accepts, for messages.
    public static let supportedNames = "silu, swish, gelu, relu"

    /// The activation `act_fn` names; nil for one not implemented here.
    public init?(name: String) {
        switch name {
        case "silu", "swish": self = .silu
        case "gelu": self = .gelu
        case "relu": self = .relu
        default: return nil
        }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .silu: return x.silu()
        case .gelu: return x.gelu()
        case .relu: return x.relu()
        }
    }

    /// `norm` then this nonlinearity, fused into one pass when it is SiLU.
    public func afterNorm(_ norm: GroupNorm, _ x: Tensor) -> Tensor {
        self == .silu ? norm(x, silu: true) : self(norm(x))
    }
}
