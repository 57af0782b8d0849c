// Shape ops: reshape (a view), permute and transpose, concat, slice, split, chunk.
import Foundation

extension Tensor {
    /// The same storage under a new shape; one dim may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            resolved[inferred] = known == 0 ? 0 : count / known
        }
        guard resolved.reduce(1, *) == count else { shapeFailure("cannot reshape \(shape) to \(newShape)") }
        let x = self
        var view = Tensor(shape: resolved, storage: storage)
        view = Tensor.record(view, [x]) { g in [g.reshaped(x.shape)] }
        return view
    }

    public func flattened() -> Tensor { reshaped([count]) }

    /// Inserts a size-1 dim at `axis`.
    public func unsqueezed(_ axis: Int) -> Tensor {
        var s = shape
        s.insert(1, at: axis < 0 ? axis + rank + 1 : axis)
        return reshaped(s)
    }

    /// Reorders dims: result dim i is input dim `order[i]` (a copy).
    public func permuted(_ order: [Int]) -> Tensor {
        guard order.sorted() == Array(0..<rank) else { shapeFailure("bad permutation \(order) for \(shape)") }
        if order == Array(0..<rank) { return self }
        let result = Tensor(uninitializedShape: order.map { shape[$0] })
        Tensor.permuteCopy(from: pointer, shape: shape, order: order, to: result.pointer)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Tensor.record(result, [self]) { g in [g.permuted(inverse)] }
    }

    /// Swaps two dims (a copy).
    public func transposed(_ a: Int, _ b: Int) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(a < 0 ? a + rank : a, b < 0 ? b + rank : b)
        return permuted(order)
    }

    static func permuteCopy(from src: UnsafeMutablePointer<Float>, shape: [Int], order: [Int], to dst: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        var inStrides = [Int](repeating: 1, count: rank)
        for d in stride(from: rank - 2, through: 0, by: -1) { inStrides[d] = inStrides[d + 1] * shape[d + 1] }
        let outShape = order.map { shape[$0] }
        let strides = order.map { inStrides[$0] }
        let inner = outShape[rank - 1], innerStride = strides[rank - 1]
        let rows = outShape.dropLast().reduce(1, *)
        parallelFor(rows, minChunk: Swift.max(1, 16384 / Swift.max(inner, 1))) { begin, end in
            var index = [Int](repeating: 0, count: rank)
            var r = begin
            for d in stride(from: rank - 2, through: 0, by: -1) {
                index[d] = r % outShape[d]
                r /= outShape[d]
            }
            for row in begin..<end {
                var offset = 0
                for d in 0..<(rank - 1) { offset += index[d] * strides[d] }
                let out = dst + row * inner
                // Wrapping arithmetic: offsets of an existing tensor cannot overflow, and the
                // overflow checks would keep this gather from vectorising (2x the instructions).
                for k in 0..<inner { out[k] = src[offset &+ k &* innerStride] }
                advanceIndex(&index, in: outShape, lastAxis: rank - 2)
            }
        }
    }

    /// Joins tensors along `axis`; all other dims must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        guard let first = tensors.first else { shapeFailure("concat of no tensors") }
        let axis = axis < 0 ? axis + first.rank : axis
        var outShape = first.shape
        outShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        let pre = first.shape[..<axis].reduce(1, *)
        let post = first.shape[(axis + 1)...].reduce(1, *)
        for t in tensors {
            guard t.rank == first.rank, t.shape.enumerated().allSatisfy({ $0.offset == axis || $0.element == first.shape[$0.offset] })
            else { shapeFailure("concat of \(t.shape) with \(first.shape) along \(axis)") }
        }
        let result = Tensor(uninitializedShape: outShape)
        let outRun = outShape[axis] * post
        var offset = 0
        for t in tensors {
            let run = t.shape[axis] * post
            Tensor.copyRuns(pre, count: run, from: t.pointer, stride: run, to: result.pointer + offset, stride: outRun)
            offset += run
        }
        let sizes = tensors.map { $0.shape[axis] }
        return record(result, tensors) { g in g.split(sizes, axis: axis) }
    }

    /// The `length` elements starting at `start` along `axis` (a copy).
    public func slice(axis: Int, start: Int, length: Int) -> Tensor {
        let axis = axis < 0 ? axis + rank : axis
        guard start >= 0, length >= 0, start + length <= shape[axis] else {
            shapeFailure("slice \(start)..<\(start + length) of axis \(axis) of \(shape)")
        }
        var outShape = shape
        outShape[axis] = length
        let pre = shape[..<axis].reduce(1, *), post = shape[(axis + 1)...].reduce(1, *)
        let result = Tensor(uninitializedShape: outShape)
        let run = length * post, inRun = shape[axis] * post
        Tensor.copyRuns(pre, count: run, from: pointer + start * post, stride: inRun, to: result.pointer, stride: run)
        let x = self
        return Tensor.record(result, [x]) { g in
            let dx = Tensor.zeros(x.shape)
            withExtendedLifetime(g) {
                Tensor.copyRuns(pre, count: run, from: g.pointer, stride: run, to: dx.pointer + start * post, stride: inRun)
            }
            return [dx]
        }
    }

    /// `runs` runs of `count` values, run r from `source + r · sourceStride` to
    /// `destination + r · destinationStride`, shared by both threads when large.
    static func copyRuns(_ runs: Int, count: Int, from source: UnsafeMutablePointer<Float>, stride sourceStride: Int,
                         to destination: UnsafeMutablePointer<Float>, stride destinationStride: Int) {
        parallelFor(runs, minChunk: Swift.max(1, 16384 / Swift.max(count, 1))) { begin, end in
            for r in begin..<end { (destination + r * destinationStride).update(from: source + r * sourceStride, count: count) }
        }
    }

    /// Splits along `axis` into pieces of the given sizes.
    public func split(_ sizes: [Int], axis: Int) -> [Tensor] {
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(axis: axis, start: start, length: size)
        }
    }

    /// Splits along `axis` into `count` equal pieces.
    public func chunk(_ count: Int, axis: Int) -> [Tensor] {
        let size = shape[axis < 0 ? axis + rank : axis] / count
        return split(Array(repeating: size, count: count), axis: axis)
    }
}

/// Steps a multi-index to the next position in row-major order over axes 0...`lastAxis` of `shape`.
@inline(__always)
func advanceIndex(_ index: inout [Int], in shape: [Int], lastAxis: Int) {
    var d = lastAxis
    while d >= 0 {
        index[d] += 1
        if index[d] < shape[d] { return }
        index[d] = 0
        d -= 1
    }
}
