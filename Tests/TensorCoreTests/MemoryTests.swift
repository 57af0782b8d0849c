// Repeated forward + backward passes must hold a flat resident memory.
import TestSupport
import XCTest
@testable import TensorCore

final class MemoryTests: XCTestCase {
    private func residentMegabytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return 0 }
        return pages * 4096 / 1_048_576
    }

    func testTwoHundredTrainingStepsDoNotGrowMemory() {
        let w = testTensor([16, 8, 3, 3], seed: 50).requiringGrad()
        let g = Tensor.ones([16]).requiringGrad(), b = Tensor.zeros([16]).requiringGrad()
        let x = testTensor([4, 8, 16, 16], seed: 51)
        func step() {
            let y = Tensor.conv2d(x, w, bias: nil, stride: 1, padding: 1).groupNorm(groups: 4, weight: g, bias: b, eps: 1e-5, silu: true)
            let q = y.reshaped([4, 16, 256]).transposed(1, 2)
            Tensor.attention(q, q, q, scale: 0.25).mean().backward()
            w.zeroGrad(); g.zeroGrad(); b.zeroGrad()
        }
        for _ in 0..<20 { step() }
        let before = residentMegabytes()
        for _ in 0..<200 { step() }
        let after = residentMegabytes()
        XCTAssertGreaterThan(before, 0, "could not read /proc/self/statm")
        XCTAssertLessThan(after - before, 8, "resident memory grew from \(before) MB to \(after) MB over 200 steps")
    }

    /// A convolution keeps its input for the weight gradient only: behind a frozen layer (a
    /// LoRA's base model) the input is freed after the forward pass, gradients still flowing
    /// through it; behind a trained one it stays until the backward pass.
    func testFrozenConvolutionDoesNotKeepItsInput() {
        let p = testTensor([2, 8, 9, 9], seed: 52)
        for trained in [false, true] {
            let w = trained ? testTensor([16, 8, 3, 3], seed: 53).requiringGrad() : testTensor([16, 8, 3, 3], seed: 53)
            let source = p.requiringGrad()
            var x: Tensor? = source * 2
            weak let storage = x?.storage
            let loss = Tensor.conv2d(x!, w, bias: nil, padding: 1).sum()
            x = nil
            XCTAssertEqual(storage != nil, trained, trained ? "a trained layer keeps its input" : "a frozen layer lets it go")
            loss.backward()
            XCTAssertEqual(source.grad?.shape, p.shape, "the input gradient still flows")
        }
    }
}
