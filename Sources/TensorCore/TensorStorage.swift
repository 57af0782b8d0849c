// TensorStorage: an aligned, uninitialised buffer of float32 values, or of bfloat16 ones (model
// weights stored for bf16 inference, linear layers' inputs under bf16), owned by one or more tensors.
import CKernels
import Foundation

public final class TensorStorage {
    public let count: Int
    /// The values are bfloat16 bits, not float32: only the products that take such tensors
    /// (`Tensor.linear`, `Tensor.conv2d`) and the conversions read them.
    public let isBFloat16: Bool
    @usableFromInline let base: UnsafeMutableRawPointer

    /// Allocates `count` values aligned to 64 bytes (a cache line, an AVX-512 register).
    public init(count: Int, bfloat16: Bool = false) {
        self.count = count
        isBFloat16 = bfloat16
        let floats = bfloat16 ? (count + 1) / 2 : count
        guard let p = dk_alloc_floats(Int64(floats)) else {
            // Out of memory is not recoverable for a numeric engine; report it plainly.
            fputs("error: out of memory allocating \(max(floats, 1) * MemoryLayout<Float>.stride) bytes\n", stderr)
            exit(70)
        }
        base = UnsafeMutableRawPointer(p)
    }

    /// The float32 values; reading bf16 storage this way is a bug, stopped here rather than read as garbage.
    @inlinable public var pointer: UnsafeMutablePointer<Float> {
        precondition(!isBFloat16, "a weight stored in bf16 was read as float32 (use float32Values())")
        return base.assumingMemoryBound(to: Float.self)
    }

    /// The bf16 bits of bf16 storage.
    public var bfloat16Pointer: UnsafeMutablePointer<UInt16> {
        precondition(isBFloat16, "float32 storage read as bf16")
        return base.assumingMemoryBound(to: UInt16.self)
    }

    deinit { dk_free(base) }
}
