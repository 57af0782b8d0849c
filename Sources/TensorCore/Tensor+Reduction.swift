// Reductions over axes (sum, mean, variance, max) with backward.
import Foundation

extension Tensor {
    func normalizedAxes(_ axes: [Int]) -> [Int] {
        Array(Set(axes.map { $0 < 0 ? $0 + rank : $0 })).sorted()
    }

    /// Sum of all elements, a scalar. Accumulates in Double per chunk for accuracy.
    public func sum() -> Tensor {
        let src = pointer, n = count
        var total = 0.0
        for i in 0..<n { total += Double(src[i]) }
        let x = self
        return Tensor.record(Tensor(Float(total)), [x]) { g in [Tensor(shape: x.shape, repeating: g.item)] }
    }

    public func mean() -> Tensor { sum() / Float(Swift.max(count, 1)) }

    /// Sum over `axes`; kept as size-1 dims when `keepDims`.
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes)
        var keptShape = shape
        for a in axes { keptShape[a] = 1 }
        let reduced = summed(toShape: keptShape)
        let outShape = keepDims ? keptShape : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
        let x = self
        return Tensor.record(reduced.reshaped(outShape), [x]) { g in [g.reshaped(keptShape).expandedCopy(to: x.shape)] }
    }

    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = normalizedAxes(axes).reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) / Float(n)
    }

    /// Population (biased) variance over `axes`, as normalisation layers use.
    public func variance(axes: [Int], keepDims: Bool = false) -> Tensor {
        let centered = self - mean(axes: axes, keepDims: true)
        return centered.square().mean(axes: axes, keepDims: keepDims)
    }

    /// Maximum along one axis; the gradient flows to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let axis = axis < 0 ? axis + rank : axis
        let n = shape[axis]
        let pre = shape[..<axis].reduce(1, *), post = shape[(axis + 1)...].reduce(1, *)
        var keptShape = shape
        keptShape[axis] = 1
        let result = Tensor(uninitializedShape: keptShape)
        var argmax = [Int](repeating: 0, count: pre * post)
        let src = pointer, dst = result.pointer
        for p in 0..<pre {
            for q in 0..<post {
                var best = -Float.infinity, bestIndex = 0
                for j in 0..<n where src[(p * n + j) * post + q] > best || j == 0 {
                    best = src[(p * n + j) * post + q]
                    bestIndex = j
                }
                dst[p * post + q] = best
                argmax[p * post + q] = bestIndex
            }
        }
        let outShape = keepDims ? keptShape : shape.enumerated().filter { $0.offset != axis }.map(\.element)
        let x = self
        return Tensor.record(result.reshaped(outShape), [x]) { g in
            let dx = Tensor.zeros(x.shape)
            for p in 0..<pre {
                for q in 0..<post { dx.pointer[(p * n + argmax[p * post + q]) * post + q] = g.pointer[p * post + q] }
            }
            return [dx]
        }
    }
}
