// The vectorised arithmetic paths on tensors large enough to split across threads, against
// plain Swift references: every broadcast pattern, both operand orders, sums back to shape,
// the fused Linear (bf16: BFloat16PrecisionTests; AdamW: NNTests).
import Foundation
import TestSupport
import XCTest
@testable import TensorCore

final class ArithmeticKernelTests: XCTestCase {
    // 3·37·611 = 67,821 elements: several chunks, whose edges fall inside broadcast runs.
    let shape = [3, 37, 611]

    /// Element i of `full` op element (i / inner) % mid of `small`, computed one by one.
    func reference(_ full: [Float], _ small: [Float], mid: Int, inner: Int, _ op: (Float, Float) -> Float) -> [Float] {
        full.indices.map { op(full[$0], small[($0 / inner) % mid]) }
    }

    func assertClose(_ a: [Float], _ b: [Float], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-6, message, file: file, line: line)
    }

    func testEveryBroadcastPatternAndOperandOrder() {
        let a = testTensor(shape, seed: 1, offset: 3)  // offset keeps divisors away from zero
        let patterns: [([Int], Int, Int)] = [([611], 611, 1), ([37, 1], 37, 611), ([3, 1, 1], 3, 37 * 611),
                                            ([1], 1, 3 * 37 * 611), (shape, 3 * 37 * 611, 1)]
        let ops: [(String, (Tensor, Tensor) -> Tensor, (Float, Float) -> Float)] = [
            ("+", { $0 + $1 }, { $0 + $1 }), ("-", { $0 - $1 }, { $0 - $1 }),
            ("*", { $0 * $1 }, { $0 * $1 }), ("/", { $0 / $1 }, { $0 / $1 }),
        ]
        for (smallShape, mid, inner) in patterns {
            let b = testTensor(smallShape, seed: 2, offset: 2)
            for (name, op, scalarOp) in ops {
                assertClose(op(a, b).values, reference(a.values, b.values, mid: mid, inner: inner, scalarOp), "a \(name) \(smallShape)")
                // The small operand first: the kernel runs reversed.
                assertClose(op(b, a).values, reference(a.values, b.values, mid: mid, inner: inner) { scalarOp($1, $0) },
                            "\(smallShape) \(name) a")
            }
        }
        // Neither operand full: both are expanded first.
        let column = testTensor([37, 1], seed: 3), row = testTensor([611], seed: 4)
        let outer = column + row
        XCTAssertEqual(outer.shape, [37, 611])
        XCTAssertEqual(outer.values[5 * 611 + 7], column.values[5] + row.values[7], accuracy: 1e-6)
    }

    func testScalarOps() {
        let a = testTensor(shape, seed: 5, offset: 2)
        assertClose((a * 3).values, a.values.map { $0 * 3 }, "a * 3")
        assertClose((a + 0.5).values, a.values.map { $0 + 0.5 }, "a + 0.5")
        assertClose((2 - a).values, a.values.map { 2 - $0 }, "2 - a")
        assertClose((-a).values, a.values.map { -$0 }, "-a")
    }

    func testSumsBackToEveryPattern() {
        let g = testTensor(shape, seed: 6)
        let values = g.values
        for (target, mid, inner) in [([611], 611, 1), ([37, 1], 37, 611), ([3, 1, 1], 3, 37 * 611)] {
            var expected = [Double](repeating: 0, count: mid)
            for i in values.indices { expected[(i / inner) % mid] += Double(values[i]) }
            let summed = g.summed(toShape: target)
            XCTAssertEqual(summed.shape, target)
            for m in 0..<mid { XCTAssertEqual(Double(summed.values[m]), expected[m], accuracy: 1e-3, "sum to \(target)[\(m)]") }
        }
    }

    func testLinearMatchesMatmulPlusBiasWithGradients() {
        let x = testTensor([300, 24], seed: 7), w = testTensor([40, 24], seed: 8), b = testTensor([40], seed: 9)
        let fused = Tensor.linear(x, weight: w, bias: b)
        let plain = Tensor.matmul(x, w, transposeB: true) + b
        assertClose(fused.values, plain.values, "linear vs matmul + bias")
        assertClose(Tensor.linear(x, weight: w, bias: nil).values, Tensor.matmul(x, w, transposeB: true).values, "no bias")
        checkGradients([testTensor([5, 6], seed: 10), testTensor([4, 6], seed: 11), testTensor([4], seed: 12)]) {
            Tensor.linear($0[0], weight: $0[1], bias: $0[2])
        }
    }
}
