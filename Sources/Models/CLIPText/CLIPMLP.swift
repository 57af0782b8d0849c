// Matches transformers CLIPMLP: fc1 → activation → fc2.
import NN
import TensorCore

public final class CLIPMLP: Module {
    public let fc1: Linear, fc2: Linear
    public let activation: CLIPActivation

    init(config: CLIPTextConfig, activation: CLIPActivation, initializer: inout Initializer) {
        fc1 = Linear(config.hiddenSize, config.intermediateSize, initializer: &initializer)
        fc2 = Linear(config.intermediateSize, config.hiddenSize, initializer: &initializer)
        self.activation = activation
    }

    public var children: [(String, Module)] { [("fc1", fc1), ("fc2", fc2)] }

    /// x [B, L, D] → [B, L, D]
    func callAsFunction(_ x: Tensor) -> Tensor {
        let h = fc1(x)   // [B, L, I]
        let a: Tensor
        switch activation {
        case .quickGelu: a = h.activation(.quickGelu)
        case .gelu: a = h.gelu()
        case .geluTanh: a = h.activation(.geluTanh)
        case .relu: a = h.relu()
        }
        return fc2(a)
    }
}
