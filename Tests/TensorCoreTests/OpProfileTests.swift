// OpProfile: each op's forward and backward time lands in its own part and pass, and nothing when off.
import TestSupport
import XCTest
@testable import TensorCore

final class OpProfileTests: XCTestCase {
    override func tearDown() {
        OpProfile.isEnabled = false
        OpProfile.reset()
    }

    /// The parts that took time while `body` ran with profiling on (or off).
    private func partsTimed(enabled: Bool, _ body: () -> Void) -> Set<OpProfile.Part> {
        OpProfile.reset()
        OpProfile.isEnabled = enabled
        body()
        OpProfile.isEnabled = false
        return Set(OpProfile.seconds.filter { $0.value > 0 }.keys)
    }

    func testEachOpIsTimedInItsOwnPart() {
        let x = testTensor([2, 4, 6, 6], seed: 1).requiringGrad()
        let w3 = testTensor([4, 4, 3, 3], seed: 2).requiringGrad(), w1 = testTensor([4, 4, 1, 1], seed: 3).requiringGrad()
        let q = testTensor([2, 5, 8], seed: 4).requiringGrad(), w = testTensor([8, 8], seed: 5).requiringGrad()
        let scale = testTensor([8], seed: 6), shift = testTensor([8], seed: 7)
        let cases: [(OpProfile.Part, () -> Tensor)] = [
            (.convolution3x3, { Tensor.conv2d(x, w3, bias: nil, padding: 1) }),
            (.convolutionOther, { Tensor.conv2d(x, w1, bias: nil) }),
            (.attention, { Tensor.attention(q, q, q, heads: 2, scale: 0.5) }),
            (.linear, { Tensor.linear(q.reshaped([10, 8]), weight: w, bias: nil) }),
            (.norm, { q.layerNorm(weight: scale, bias: shift, eps: 1e-5) }),
            (.activation, { q.geglu() }),
        ]
        for (part, op) in cases {
            let y = op()
            XCTAssertEqual(partsTimed(enabled: true) { y.sum().backward() }, [part], "\(part) backward")
            XCTAssertGreaterThan(OpProfile.seconds(part, .backward), 0, "\(part) backward in its pass")
            XCTAssertEqual(OpProfile.seconds(part, .forward), 0, "\(part) backward in its pass")
            XCTAssertEqual(partsTimed(enabled: true) { _ = op() }, [part], "\(part) forward")
            XCTAssertEqual(OpProfile.seconds(part, .backward), 0, "\(part) forward in its pass")
            XCTAssertEqual(partsTimed(enabled: false) { op().sum().backward() }, [], "\(part) off")
        }
    }
}
