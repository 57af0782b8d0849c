// Index ops: embedding lookup (gather rows) and selecting rows by index.
import Foundation

extension Tensor {
    /// Rows of `table` ([V, D]) picked by `ids`, shaped `idsShape + [D]`. Ids must be in
    /// range (validated by callers, e.g. the tokenizer only emits vocabulary ids).
    public static func embedding(_ table: Tensor, ids: [Int], idsShape: [Int]) -> Tensor {
        let rows = table.shape[0], width = table.shape[1]
        let result = Tensor(uninitializedShape: idsShape + [width])
        for (i, id) in ids.enumerated() {
            guard id >= 0 && id < rows else { shapeFailure("embedding id \(id) outside 0..<\(rows)") }
            (result.pointer + i * width).update(from: table.pointer + id * width, count: width)
        }
        return record(result, [table]) { g in
            let dTable = Tensor.zeros(table.shape)
            for (i, id) in ids.enumerated() {
                let dst = dTable.pointer + id * width, src = g.pointer + i * width
                for k in 0..<width { dst[k] += src[k] }
            }
            return [dTable]
        }
    }

    /// Row `index` along the first dim of each batch item: self [B, L, D], indices [B] → [B, D].
    public func gatherRows(_ indices: [Int]) -> Tensor {
        let length = shape[1], width = shape[2]
        let parts = indices.enumerated().map { b, i in
            slice(axis: 0, start: b, length: 1).slice(axis: 1, start: Swift.min(Swift.max(i, 0), length - 1), length: 1)
        }
        return Tensor.concat(parts, axis: 0).reshaped([indices.count, width])
    }
}
