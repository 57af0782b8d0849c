// Finite-difference gradient checking for tensor ops and modules (shared by the test targets).
import TensorCore
import XCTest

/// Deterministic pseudo-random values in [-1, 1] for test inputs.
public func testValues(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<count).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2_000_001) / 1_000_000 - 1
    }
}

public func testTensor(_ shape: [Int], seed: UInt64, scale: Float = 1, offset: Float = 0) -> Tensor {
    let values = testValues(shape.reduce(1, *), seed: seed).map { $0 * scale + offset }
    return try! Tensor(shape: shape, values: values)  // test-only: shapes are literals
}

/// Checks the analytic gradient of `f` (reduced to a scalar with fixed random weights) with
/// respect to each input against central differences. Float32 differences are noisy, so the
/// error is measured relative to the gradient's scale: |analytic − numeric| ≤ tol·max(1, |g|∞).
public func checkGradients(_ inputs: [Tensor], eps: Float = 1e-2, tolerance: Float = 2e-2,
                    file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor) {
    let leaves = inputs.map { $0.copy().requiringGrad() }
    let probe = f(leaves)
    let weights = testTensor(probe.shape, seed: 99)
    (probe * weights).sum().backward()
    for (index, leaf) in leaves.enumerated() {
        guard let analytic = leaf.grad else {
            XCTFail("input \(index) got no gradient", file: file, line: line)
            continue
        }
        var worst: Float = 0
        let scale = max(1, analytic.values.map(abs).max() ?? 0)
        let positions = Array(Set((0..<min(leaf.count, 24)).map { ($0 * 7919) % leaf.count })).sorted()
        for i in positions {
            let original = leaf.pointer[i]
            let plus = inputs.map { $0.copy() }, minus = inputs.map { $0.copy() }
            plus[index].pointer[i] = original + eps
            minus[index].pointer[i] = original - eps
            let fp = Autograd.withoutGrad { (f(plus) * weights).sum().item }
            let fm = Autograd.withoutGrad { (f(minus) * weights).sum().item }
            let numeric = (fp - fm) / (2 * eps)
            worst = max(worst, abs(numeric - analytic.pointer[i]))
        }
        XCTAssertLessThanOrEqual(worst / scale, tolerance, "input \(index): gradient differs from finite differences", file: file, line: line)
    }
}
