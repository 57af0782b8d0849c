// BatchShard: the ranks' slices of a global batch cover it once, in order, sizes within one.
import Training
import XCTest

final class BatchShardTests: XCTestCase {
    func testSlicesCoverTheBatchOnceInOrder() {
        for size in 1...5 {
            for count in size...13 {
                let slices = (0..<size).map { BatchShard.range(count: count, rank: $0, size: size) }
                XCTAssertEqual(slices.flatMap { Array($0) }, Array(0..<count), "\(count) over \(size)")
                let sizes = slices.map(\.count)
                XCTAssertLessThanOrEqual((sizes.max() ?? 0) - (sizes.min() ?? 0), 1, "\(count) over \(size)")
            }
        }
        XCTAssertEqual(BatchShard.range(count: 5, rank: 0, size: 2), 0..<3)
        XCTAssertEqual(BatchShard.range(count: 5, rank: 1, size: 2), 3..<5)
    }
}
