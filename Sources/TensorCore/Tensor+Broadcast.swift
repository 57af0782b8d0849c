// Broadcasting rules (NumPy/PyTorch) and the two kernels they need: expand and sum-to-shape.
import CKernels
import Foundation

/// Stops on a shape error in model code: a bug, never a consequence of user input (inputs
/// are validated where they enter: configs, weight files, flags).
func shapeFailure(_ message: String, file: StaticString = #file, line: UInt = #line) -> Never {
    fatalError("tensor shape error: \(message)", file: file, line: line)
}

extension Tensor {
    /// The shape both operands broadcast to.
    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = Swift.max(a.count, b.count)
        let pa = Array(repeating: 1, count: rank - a.count) + a
        let pb = Array(repeating: 1, count: rank - b.count) + b
        return (0..<rank).map { i in
            if pa[i] == pb[i] || pb[i] == 1 { return pa[i] }
            if pa[i] == 1 { return pb[i] }
            shapeFailure("cannot broadcast \(a) with \(b)")
        }
    }

    /// When `shape` broadcasts to `target` by repeating one contiguous block of dims, the
    /// (mid, inner) sizes such that element i of the target reads element (i / inner) % mid.
    static func broadcastPattern(_ shape: [Int], to target: [Int]) -> (mid: Int, inner: Int)? {
        let padded = Array(repeating: 1, count: target.count - shape.count) + shape
        guard let first = padded.indices.first(where: { padded[$0] != 1 }) else {
            return (1, target.reduce(1, *))
        }
        let last = padded.indices.last(where: { padded[$0] != 1 })!
        for i in first...last where padded[i] != target[i] { return nil }
        return (padded[first...last].reduce(1, *), target[(last + 1)...].reduce(1, *))
    }

    /// This tensor repeated along its size-1 dims to `target` (a copy; no graph).
    func expandedCopy(to target: [Int]) -> Tensor {
        if shape == target { return self }
        let result = Tensor(uninitializedShape: target)
        let src = pointer, dst = result.pointer
        if let (mid, inner) = Tensor.broadcastPattern(shape, to: target) {
            let total = result.count
            parallelFor(total) { begin, end in
                for i in begin..<end { dst[i] = src[(i / inner) % mid] }
            }
            return result
        }
        // General case: walk the target's index space with the source's strides (0 on repeats).
        let rank = target.count
        let padded = Array(repeating: 1, count: rank - shape.count) + shape
        var strides = [Int](repeating: 0, count: rank)
        var step = 1
        for d in stride(from: rank - 1, through: 0, by: -1) {
            strides[d] = padded[d] == 1 ? 0 : step
            step *= padded[d]
        }
        var index = [Int](repeating: 0, count: rank)
        for i in 0..<result.count {
            var offset = 0
            for d in 0..<rank { offset += index[d] * strides[d] }
            dst[i] = src[offset]
            advanceIndex(&index, in: target, lastAxis: rank - 1)
        }
        return result
    }

    /// Sums this tensor down to `target`, the inverse of broadcasting (a copy; no graph).
    func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let padded = Array(repeating: 1, count: shape.count - target.count) + target
        if let (mid, inner) = Tensor.broadcastPattern(target, to: shape) {
            let result = Tensor(uninitializedShape: target)
            dk_sum_to_pattern(pointer, result.pointer, Int64(count / (mid * inner)), Int64(mid), Int64(inner))
            return result
        }
        var current = self
        for axis in 0..<shape.count where padded[axis] == 1 && shape[axis] != 1 {
            current = current.reduceAxis(axis, keepDim: true) { $0 + $1 }
        }
        return current.reshaped(target)
    }

    /// Reduces one axis with `combine`, starting from the first element along it.
    func reduceAxis(_ axis: Int, keepDim: Bool, _ combine: (Float, Float) -> Float) -> Tensor {
        let n = shape[axis]
        let pre = shape[..<axis].reduce(1, *), post = shape[(axis + 1)...].reduce(1, *)
        var outShape = shape
        if keepDim { outShape[axis] = 1 } else { outShape.remove(at: axis) }
        let result = Tensor(uninitializedShape: outShape)
        let src = pointer, dst = result.pointer
        for p in 0..<pre {
            let base = p * n * post
            for q in 0..<post { dst[p * post + q] = n > 0 ? src[base + q] : 0 }
            if n > 1 {
                for j in 1..<n {
                    let row = base + j * post
                    for q in 0..<post { dst[p * post + q] = combine(dst[p * post + q], src[row + q]) }
                }
            }
        }
        return result
    }
}
