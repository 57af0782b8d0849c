// Tensors stored as bfloat16: weights for bf16 inference (half the memory of float32), and the
// inputs of linear layers under bf16 (kept for the backward pass, or shared by several layers).
// The bf16 products read them as they are instead of converting them on every call. Only
// `linear` (weight or input) and `conv2d` (weight) take such a tensor; anything else reads
// `float32Values()`.
import CKernels

extension Tensor {
    /// Whether the values are stored as bf16 bits.
    public var isBFloat16: Bool { storage.isBFloat16 }

    /// The values rounded to bf16 (ties to even) and stored so, outside the autograd graph.
    public func storedInBFloat16() -> Tensor {
        if isBFloat16 { return detached() }
        let result = Tensor(shape: shape, storage: TensorStorage(count: count, bfloat16: true))
        Tensor.check(dk_bf16_from_f32(pointer, result.storage.bfloat16Pointer, Int64(count)), "bf16 conversion")
        return result
    }

    /// The values rounded to bf16 and stored so, as one copy for several linear layers to read
    /// (attention's projections of one input, every cross-attention's keys and values of one
    /// context) where each would round its own. Gradients pass through unchanged, as through the
    /// rounding inside each bf16 product. A tensor stored as bf16 already is returned as it is.
    public func sharedInBFloat16() -> Tensor {
        if isBFloat16 { return self }
        return Tensor.record(storedInBFloat16(), [self]) { g in [g] }
    }

    /// The values as float32: this tensor when stored so, else an exact float32 copy.
    public func float32Values() -> Tensor {
        guard isBFloat16 else { return self }
        let result = Tensor(uninitializedShape: shape)
        Tensor.check(dk_f32_from_bf16(storage.bfloat16Pointer, result.pointer, Int64(count)), "bf16 conversion")
        return result
    }
}
