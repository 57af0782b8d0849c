// Activations (SiLU, GELU erf/tanh, quick-GELU) and softmax, on vectorised C kernels.
import CKernels

public enum Activation {
    case silu, gelu, geluTanh, quickGelu

    var kind: Int32 {
        switch self {
        case .silu: return Int32(DK_ACT_SILU)
        case .gelu: return Int32(DK_ACT_GELU_ERF)
        case .geluTanh: return Int32(DK_ACT_GELU_TANH)
        case .quickGelu: return Int32(DK_ACT_QUICK_GELU)
        }
    }
}

extension Tensor {
    public func activation(_ f: Activation) -> Tensor {
        let y = Tensor(uninitializedShape: shape)
        Tensor.check(dk_activation_forward(f.kind, pointer, y.pointer, Int64(count)), "activation")
        let x = self
        return Tensor.record(y, [x]) { g in
            let dx = Tensor(uninitializedShape: x.shape)
            Tensor.check(dk_activation_backward(f.kind, x.pointer, g.pointer, dx.pointer, Int64(x.count)), "activation backward")
            return [dx]
        }
    }

    public func silu() -> Tensor { activation(.silu) }
    public func gelu() -> Tensor { activation(.gelu) }

    /// Softmax over the last dim.
    public func softmax() -> Tensor {
        let cols = shape[rank - 1], rows = count / Swift.max(cols, 1)
        let y = Tensor(uninitializedShape: shape)
        Tensor.check(dk_softmax_forward(pointer, y.pointer, Int64(rows), Int64(cols)), "softmax")
        return Tensor.record(y, [self]) { g in
            let dx = Tensor(uninitializedShape: y.shape)
            Tensor.check(dk_softmax_backward(y.pointer, g.pointer, dx.pointer, Int64(rows), Int64(cols)), "softmax backward")
            return [dx]
        }
    }
}
