// Which examples of a global micro-batch a rank computes: a contiguous slice, sizes within one.
import TensorCore

public enum BatchShard {
    /// Rank `rank`'s slice of `count` examples split over `size` ranks (the first
    /// `count % size` ranks take one more).
    public static func range(count: Int, rank: Int, size: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    /// Rows `range` of a [N, ...] tensor (a copy; the tensor itself when the range is all of it).
    static func rows(_ tensor: Tensor, _ range: Range<Int>) -> Tensor {
        if range == 0..<tensor.shape[0] { return tensor }
        let size = tensor.count / tensor.shape[0]
        let result = Tensor(uninitializedShape: [range.count] + Array(tensor.shape.dropFirst()))
        result.pointer.update(from: tensor.pointer + range.lowerBound * size, count: range.count * size)
        return result
    }
}
