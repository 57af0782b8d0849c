// TensorStorage: an aligned, uninitialised float32 buffer owned by one or more tensors.
import Foundation

public final class TensorStorage {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    /// Allocates `count` floats aligned to 64 bytes (a cache line, an AVX-512 register).
    public init(count: Int) {
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        if posix_memalign(&raw, 64, bytes) != 0 || raw == nil {
            // Out of memory is not recoverable for a numeric engine; report it plainly.
            fputs("error: out of memory allocating \(bytes) bytes\n", stderr)
            exit(70)
        }
        pointer = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    deinit { free(pointer) }
}
