// Parallel loops for Swift code, run on the same OpenMP pool as the C kernels and BLAS.
import CKernels

public enum Threads {
    /// The number of threads every kernel uses (all cores by default).
    public static var count: Int {
        get { Int(dk_get_threads()) }
        set { dk_set_threads(Int32(newValue)) }
    }

    /// Makes threads that wait for work sleep after a short spin, so that another busy process on
    /// the same cores keeps its share (and this one its share beside it). Call first thing in
    /// main: it re-executes the program with libgomp's spin count set, unless $OMP_WAIT_POLICY or
    /// $GOMP_SPINCOUNT already says what the user wants.
    public static func applyWaitPolicy() {
        dk_apply_wait_policy(UnsafePointer(CommandLine.unsafeArgv))
    }
}

private final class LoopBody {
    let body: (Int, Int) -> Void
    init(_ body: @escaping (Int, Int) -> Void) { self.body = body }
}

/// Runs `body(begin, end)` over `0..<count` in contiguous chunks, one per thread. Chunks
/// depend only on `count` and the thread count, never on timing.
@inline(__always)
public func parallelFor(_ count: Int, minChunk: Int = 16384, _ body: @escaping (Int, Int) -> Void) {
    if count <= minChunk || Threads.count == 1 {
        body(0, count)
        return
    }
    let box = LoopBody(body)
    withExtendedLifetime(box) {
        dk_parallel_for(Int64(count), Int64(minChunk), Unmanaged.passUnretained(box).toOpaque()) { ctx, begin, end in
            Unmanaged<LoopBody>.fromOpaque(ctx!).takeUnretainedValue().body(Int(begin), Int(end))
        }
    }
}
