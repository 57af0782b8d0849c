// Forward values and finite-difference gradients of elementwise, reduction and shape ops.
import TestSupport
import XCTest
@testable import TensorCore

final class ElementwiseTests: XCTestCase {
    func testBroadcastArithmeticForward() throws {
        let a = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3], values: [10, 20, 30])
        XCTAssertEqual((a + b).values, [11, 22, 33, 14, 25, 36])
        XCTAssertEqual((a * b).values, [10, 40, 90, 40, 100, 180])
        let c = try Tensor(shape: [2, 1], values: [1, 2])
        XCTAssertEqual((a - c).values, [0, 1, 2, 2, 3, 4])
        XCTAssertEqual((a / 2).values, [0.5, 1, 1.5, 2, 2.5, 3])
        let d = try Tensor(shape: [1, 3, 1], values: [1, 2, 3])
        let e = try Tensor(shape: [2, 1, 2], values: [1, 2, 3, 4])
        XCTAssertEqual((d * e).shape, [2, 3, 2])
        XCTAssertEqual((d * e).values, [1, 2, 2, 4, 3, 6, 3, 4, 6, 8, 9, 12])
    }

    func testArithmeticGradients() {
        let a = testTensor([2, 3, 4], seed: 1), b = testTensor([3, 1], seed: 2, offset: 2.5)
        checkGradients([a, b]) { $0[0] + $0[1] }
        checkGradients([a, b]) { $0[0] - $0[1] }
        checkGradients([a, b]) { $0[0] * $0[1] }
        checkGradients([a, b]) { $0[0] / $0[1] }
        checkGradients([a]) { $0[0] * 3 + 1 }
        checkGradients([a, testTensor([2, 3, 4], seed: 3)]) { $0[0].maximum($0[1]) }
    }

    func testMathForwardAndGradients() {
        let x = testTensor([3, 5], seed: 4)
        let positive = testTensor([3, 5], seed: 5, scale: 0.5, offset: 1.5)
        XCTAssertEqual(x.exp().values[0], Foundation.exp(x.values[0]), accuracy: 1e-6)
        XCTAssertEqual(x.erf().values[3], Foundation.erf(x.values[3]), accuracy: 1e-6)
        checkGradients([x]) { $0[0].exp() }
        checkGradients([positive]) { $0[0].log() }
        checkGradients([positive]) { $0[0].sqrt() }
        checkGradients([positive]) { $0[0].rsqrt() }
        checkGradients([positive]) { $0[0].pow(1.7) }
        checkGradients([x]) { $0[0].tanh() }
        checkGradients([x]) { $0[0].sigmoid() }
        checkGradients([x]) { $0[0].sin() }
        checkGradients([x]) { $0[0].cos() }
        checkGradients([x]) { $0[0].erf() }
        checkGradients([x]) { $0[0].square() }
        checkGradients([x], eps: 1e-3) { $0[0].clamped(-0.5, 0.5) }
    }

    func testSelect() throws {
        let c = try Tensor(shape: [4], values: [1, 0, 1, 0])
        let a = try Tensor(shape: [4], values: [1, 2, 3, 4]), b = try Tensor(shape: [4], values: [5, 6, 7, 8])
        XCTAssertEqual(Tensor.select(c, a, b).values, [1, 6, 3, 8])
        checkGradients([a, b]) { Tensor.select(c, $0[0], $0[1]) }
    }

    func testReductions() throws {
        let a = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(a.sum().item, 21)
        XCTAssertEqual(a.sum(axes: [0]).values, [5, 7, 9])
        XCTAssertEqual(a.sum(axes: [1], keepDims: true).shape, [2, 1])
        XCTAssertEqual(a.mean(axes: [1]).values, [2, 5])
        XCTAssertEqual(a.max(axis: 1).values, [3, 6])
        XCTAssertEqual(a.variance(axes: [1]).values[0], 2.0 / 3.0, accuracy: 1e-6)
        let x = testTensor([2, 3, 4], seed: 6)
        checkGradients([x]) { $0[0].sum(axes: [0, 2]) }
        checkGradients([x]) { $0[0].mean(axes: [1], keepDims: true) }
        checkGradients([x]) { $0[0].variance(axes: [2]) }
        checkGradients([x]) { $0[0].max(axis: 1) }
        checkGradients([x]) { $0[0].mean() }
    }

    func testShapeOps() throws {
        let a = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(a.transposed(0, 1).values, [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(a.reshaped([3, -1]).shape, [3, 2])
        let b = testTensor([2, 3, 4, 5], seed: 7)
        let p = b.permuted([2, 0, 3, 1])
        XCTAssertEqual(p.shape, [4, 2, 5, 3])
        // p[i, j, k, l] = b[j, l, i, k]; check p[1, 1, 2, 2] = b[1, 2, 1, 2].
        let pIndex = ((1 * 2 + 1) * 5 + 2) * 3 + 2
        let bIndex = ((1 * 3 + 2) * 4 + 1) * 5 + 2
        XCTAssertEqual(p.values[pIndex], b.values[bIndex])
        let c = Tensor.concat([a, a * 10], axis: 1)
        XCTAssertEqual(c.values, [1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60])
        XCTAssertEqual(c.slice(axis: 1, start: 2, length: 2).values, [3, 10, 6, 40])
        XCTAssertEqual(c.chunk(2, axis: 1)[1].values, [10, 20, 30, 40, 50, 60])
        checkGradients([b]) { $0[0].permuted([3, 1, 0, 2]) }
        checkGradients([b, testTensor([2, 1, 4, 5], seed: 8)]) { Tensor.concat([$0[0], $0[1]], axis: 1).slice(axis: 1, start: 1, length: 3) }
        checkGradients([b]) { $0[0].chunk(2, axis: 3)[0] }
    }

    func testMatmulForwardAndGradients() throws {
        let a = try Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3, 2], values: [1, 0, 0, 1, 1, 1])
        XCTAssertEqual(Tensor.matmul(a, b).values, [4, 5, 10, 11])
        XCTAssertEqual(Tensor.matmul(a, a, transposeB: true).values, [14, 32, 32, 77])
        let x = testTensor([3, 4, 5], seed: 9), y = testTensor([3, 5, 2], seed: 10)
        let w = testTensor([6, 5], seed: 11)
        checkGradients([x, y]) { Tensor.matmul($0[0], $0[1]) }
        checkGradients([x, w]) { Tensor.matmul($0[0], $0[1], transposeB: true) }
        checkGradients([x, testTensor([3, 4, 2], seed: 12)]) { Tensor.matmul($0[0], $0[1], transposeA: true) }
        checkGradients([x, testTensor([3, 6, 5], seed: 13)]) { Tensor.matmul($0[0], $0[1], transposeB: true) }
        checkGradients([testTensor([3, 5, 4], seed: 14), testTensor([3, 2, 5], seed: 15)]) {
            Tensor.matmul($0[0], $0[1], transposeA: true, transposeB: true)
        }
    }

    func testGatherAndUpsample() throws {
        let table = testTensor([5, 3], seed: 16)
        let e = Tensor.embedding(table, ids: [4, 0, 4], idsShape: [3])
        XCTAssertEqual(Array(e.values[0..<3]), Array(table.values[12..<15]))
        checkGradients([table]) { Tensor.embedding($0[0], ids: [4, 0, 4, 2], idsShape: [2, 2]) }
        let x = try Tensor(shape: [1, 1, 1, 2], values: [1, 2])
        XCTAssertEqual(x.upsampledNearest2x().values, [1, 1, 2, 2, 1, 1, 2, 2])
        checkGradients([testTensor([2, 3, 3, 4], seed: 17)]) { $0[0].upsampledNearest2x() }
    }

    func testGradientAccumulatesAcrossUses() throws {
        let x = try Tensor(shape: [2], values: [1, 2]).requiringGrad()
        (x * x + x).sum().backward()
        XCTAssertEqual(x.grad?.values, [3, 5])
        (x * 2).sum().backward()
        XCTAssertEqual(x.grad?.values, [5, 7], "gradients accumulate until cleared")
        x.zeroGrad()
        XCTAssertNil(x.grad)
    }

    func testNoGradRecordsNothing() {
        let x = testTensor([4], seed: 18).requiringGrad()
        let y = Autograd.withoutGrad { x * 2 }
        XCTAssertFalse(y.requiresGrad)
    }
}
