// The resnet nonlinearity named by a VAE config's act_fn (diffusers get_activation).
import TensorCore

public enum VAEActivation: Equatable {
    case silu, gelu, relu

    public init(name: String) throws {
        switch name {
        case "silu", "swish": self = .silu
        case "gelu": self = .gelu
        case "relu": self = .relu
        default:
            throw AutoencoderKLConfig.unsupported(\.actFn, name, supported: "silu, swish, gelu, relu")
        }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .silu: return x.silu()
        case .gelu: return x.gelu()
        case .relu: return x.relu()
        }
    }
}
