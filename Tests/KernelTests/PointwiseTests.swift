// Softmax and activations against double-precision math and finite differences.
import CKernels
import Foundation
import XCTest

final class PointwiseTests: XCTestCase {
    func softmax(_ x: [Double], cols: Int) -> [Double] {
        var y = x
        for r in 0..<(x.count / cols) {
            let row = x[(r * cols)..<((r + 1) * cols)], m = row.max() ?? 0
            let s = row.map { exp($0 - m) }.reduce(0, +)
            for i in 0..<cols { y[r * cols + i] = exp(x[r * cols + i] - m) / s }
        }
        return y
    }

    func testSoftmax() {
        for (rows, cols) in [(3, 1), (7, 33), (4, 77), (2, 1000)] {
            var rng = TestRandom(seed: UInt64(cols))
            let x = rng.floats(rows * cols, scale: 8), dy = rng.floats(rows * cols)
            var y = [Float](repeating: 0, count: x.count), dx = y
            XCTAssertEqual(dk_softmax_forward(x, &y, Int64(rows), Int64(cols)), 0)
            // Probabilities: absolute error 1e-6 (fast exp is within a few ulp).
            XCTAssertLessThan(relativeError(y, softmax(x.doubles, cols: cols)), 1e-6, "softmax \(rows)x\(cols)")
            XCTAssertEqual(dk_softmax_backward(y, dy, &dx, Int64(rows), Int64(cols)), 0)
            let numeric = numericGradient(x.doubles) { dot(self.softmax($0, cols: cols), dy) }
            XCTAssertLessThan(relativeError(dx, numeric), 1e-5, "softmax backward \(rows)x\(cols)")
        }
    }

    func testSoftmaxHandlesLargeInputs() {
        let x: [Float] = [1000, 999, -1000, -Float.infinity]
        var y = [Float](repeating: 0, count: 4)
        XCTAssertEqual(dk_softmax_forward(x, &y, 1, 4), 0)
        XCTAssertLessThan(relativeError(y, [1 / (1 + exp(-1.0)), exp(-1.0) / (1 + exp(-1.0)), 0, 0]), 1e-6)
    }

    static let activations: [(kind: Int32, name: String, f: (Double) -> Double)] = [
        (Int32(DK_ACT_SILU), "silu", { $0 / (1 + exp(-$0)) }),
        (Int32(DK_ACT_GELU_ERF), "gelu", { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }),
        (Int32(DK_ACT_GELU_TANH), "gelu_tanh", { 0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }),
        (Int32(DK_ACT_QUICK_GELU), "quick_gelu", { $0 / (1 + exp(-1.702 * $0)) }),
    ]

    func testActivations() {
        var rng = TestRandom(seed: 5)
        // Wide range including the tails, and an odd count so vector tails are exercised.
        let x = rng.floats(1001, scale: 12) + [0, -0.0, 30, -30, 100, -100]
        let dy = rng.floats(x.count)
        for a in Self.activations {
            var y = [Float](repeating: 0, count: x.count), dx = y
            XCTAssertEqual(dk_activation_forward(a.kind, x, &y, Int64(x.count)), 0)
            XCTAssertEqual(dk_activation_backward(a.kind, x, dy, &dx, Int64(x.count)), 0)
            for i in 0..<x.count {
                let xv = Double(x[i]), ref = a.f(xv)
                // Forward: 2e-6 relative (+1e-7 absolute near zero).
                XCTAssertLessThan(abs(Double(y[i]) - ref), 2e-6 * abs(ref) + 1e-7, "\(a.name)(\(xv))")
                let h = 1e-5, numeric = (a.f(xv + h) - a.f(xv - h)) / (2 * h) * Double(dy[i])
                // Derivative: 1e-5 absolute (derivatives are O(1); FD truncation ~1e-10).
                XCTAssertLessThan(abs(Double(dx[i]) - numeric), 1e-5, "\(a.name)'(\(xv))")
            }
        }
    }

    func testBadArgumentsReturnErrors() {
        let x = [Float](repeating: 0, count: 4)
        var y = x
        XCTAssertEqual(dk_activation_forward(9, x, &y, 4), Int32(DK_ERR_ARG))
        XCTAssertEqual(dk_activation_forward(0, x, &y, -1), Int32(DK_ERR_SHAPE))
        XCTAssertEqual(dk_softmax_forward(x, &y, 2, 0), Int32(DK_ERR_SHAPE))
    }
}
