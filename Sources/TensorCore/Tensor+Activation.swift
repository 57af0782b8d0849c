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
        OpProfile.measure(.activation) {
            Tensor.check(dk_activation_forward(f.kind, pointer, y.pointer, Int64(count)), "activation")
        }
        let x = self
        return Tensor.record(y, [x]) { g in
            OpProfile.measure(.activation, .backward) {
                let dx = Tensor(uninitializedShape: x.shape)
                Tensor.check(dk_activation_backward(f.kind, x.pointer, g.pointer, dx.pointer, Int64(x.count)), "activation backward")
                return [dx]
            }
        }
    }

    public func silu() -> Tensor { activation(.silu) }
    public func gelu() -> Tensor { activation(.gelu) }

    /// GEGLU (diffusers): the last dim [2·inner] is [hidden | gate] → hidden · gelu(gate) [..., inner].
    public func geglu() -> Tensor { gated(storedInBFloat16: false) }

    /// `geglu()` rounded to bf16 and stored so: under bf16 the next linear layer reads it as it
    /// is instead of converting a float32 copy. Its gradient is geglu's (the rounding passes it).
    /// An input stored in bf16 (a linear layer's bf16 output) is read as it is, and its gradient
    /// is stored in bf16 too, for that layer's bf16 products.
    public func gegluStoredInBFloat16() -> Tensor { gated(storedInBFloat16: true) }

    private func gated(storedInBFloat16 bf16: Bool) -> Tensor {
        let width = shape.last ?? 0
        guard width > 0, width % 2 == 0 else { shapeFailure("geglu of \(shape): the last dim must be even") }
        if isBFloat16 && !bf16 { return Tensor.record(float32Values(), [self]) { g in [g] }.geglu() }
        let inner = width / 2, rows = count / width
        let outputShape = Array(shape.dropLast()) + [inner]
        let y = OpProfile.measure(.activation) {
            if bf16 {
                let y = Tensor(shape: outputShape, storage: TensorStorage(count: rows * inner, bfloat16: true))
                Tensor.check(isBFloat16 ? dk_geglu_forward_bf16_input(storage.bfloat16Pointer, y.storage.bfloat16Pointer, Int64(rows), Int64(inner))
                                        : dk_geglu_forward_bf16(pointer, y.storage.bfloat16Pointer, Int64(rows), Int64(inner)), "geglu")
                return y
            }
            let y = Tensor(uninitializedShape: outputShape)
            Tensor.check(dk_geglu_forward(pointer, y.pointer, Int64(rows), Int64(inner)), "geglu")
            return y
        }
        let x = self
        return Tensor.record(y, [x]) { g in
            OpProfile.measure(.activation, .backward) {
                let g = g.float32Values()
                let dx = Tensor(shape: x.shape, storage: TensorStorage(count: x.count, bfloat16: x.isBFloat16))
                if x.isBFloat16 {
                    Tensor.check(dk_geglu_backward_bf16(x.storage.bfloat16Pointer, g.pointer, dx.storage.bfloat16Pointer,
                                                        Int64(rows), Int64(inner)), "geglu backward")
                } else {
                    Tensor.check(dk_geglu_backward(x.pointer, g.pointer, dx.pointer, Int64(rows), Int64(inner)), "geglu backward")
                }
                return [dx]
            }
        }
    }

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
