// TensorStorage: an aligned, uninitialised float32 buffer owned by one or more tensors.
import CKernels
import Foundation

public final class TensorStorage {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Allocates `count` floats aligned to 64 bytes (a cache line, an AVX-512 register).
    public init(count: Int) {
        self.count = count
        guard let p = dk_alloc_floats(Int64(count)) else {
            // Out of memory is not recoverable for a numeric engine; report it plainly.
            fputs("error: out of memory allocating \(max(count, 1) * MemoryLayout<Float>.stride) bytes\n", stderr)
            exit(70)
        }
        pointer = p
    }

    deinit { dk_free(pointer) }
}
