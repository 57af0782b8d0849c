// Convolution, normalisation, softmax, attention and activations: forward against direct
// formulas, backward against finite differences.
import TestSupport
import XCTest
@testable import TensorCore

final class NeuralOpsTests: XCTestCase {
    func testConvolutionMatchesDirectSum() {
        let x = testTensor([2, 3, 5, 6], seed: 20), w = testTensor([4, 3, 3, 3], seed: 21), b = testTensor([4], seed: 22)
        for (stride, padding) in [(1, 1), (2, 1), (1, 0)] {
            let y = Tensor.conv2d(x, w, bias: b, stride: stride, padding: padding)
            let oh = (5 + 2 * padding - 3) / stride + 1, ow = (6 + 2 * padding - 3) / stride + 1
            XCTAssertEqual(y.shape, [2, 4, oh, ow])
            // Spot-check outputs against the definition.
            for (n, k, oy, ox) in [(0, 0, 0, 0), (1, 3, oh - 1, ow - 1), (1, 2, oh / 2, 1)] {
                var sum = Double(b.values[k])
                for c in 0..<3 { for r in 0..<3 { for s in 0..<3 {
                    let iy = oy * stride - padding + r, ix = ox * stride - padding + s
                    guard iy >= 0, iy < 5, ix >= 0, ix < 6 else { continue }
                    sum += Double(x.values[((n * 3 + c) * 5 + iy) * 6 + ix]) * Double(w.values[((k * 3 + c) * 3 + r) * 3 + s])
                } } }
                XCTAssertEqual(y.values[((n * 4 + k) * oh + oy) * ow + ox], Float(sum), accuracy: 1e-4)
            }
        }
    }

    func testConvolutionGradients() {
        let x = testTensor([2, 3, 5, 6], seed: 23), w = testTensor([4, 3, 3, 3], seed: 24), b = testTensor([4], seed: 25)
        checkGradients([x, w, b]) { Tensor.conv2d($0[0], $0[1], bias: $0[2], stride: 1, padding: 1) }
        checkGradients([x, w, b]) { Tensor.conv2d($0[0], $0[1], bias: $0[2], stride: 2, padding: 1) }
        checkGradients([x, testTensor([5, 3, 1, 1], seed: 26)]) { Tensor.conv2d($0[0], $0[1], bias: nil) }
    }

    func testGroupNormMatchesFormula() {
        let x = testTensor([2, 6, 3, 3], seed: 27, scale: 2, offset: 0.5)
        let w = testTensor([6], seed: 28, offset: 1), b = testTensor([6], seed: 29)
        let y = x.groupNorm(groups: 3, weight: w, bias: b, eps: 1e-5)
        let grouped = x.reshaped([2, 3, 18])
        let expected = ((grouped - grouped.mean(axes: [2], keepDims: true))
            / (grouped.variance(axes: [2], keepDims: true) + 1e-5).sqrt()).reshaped([2, 6, 3, 3])
            * w.reshaped([1, 6, 1, 1]) + b.reshaped([1, 6, 1, 1])
        for (a, e) in zip(y.values, expected.values) { XCTAssertEqual(a, e, accuracy: 1e-4) }
        let fused = x.groupNorm(groups: 3, weight: w, bias: b, eps: 1e-5, silu: true)
        for (a, e) in zip(fused.values, expected.values) { XCTAssertEqual(a, e / (1 + Foundation.exp(-e)), accuracy: 1e-4) }
        checkGradients([x, w, b]) { $0[0].groupNorm(groups: 3, weight: $0[1], bias: $0[2], eps: 1e-5) }
        checkGradients([x, w, b]) { $0[0].groupNorm(groups: 2, weight: $0[1], bias: $0[2], eps: 1e-5, silu: true) }
    }

    func testLayerNormMatchesFormula() {
        let x = testTensor([3, 4, 7], seed: 30, scale: 3), w = testTensor([7], seed: 31, offset: 1), b = testTensor([7], seed: 32)
        let y = x.layerNorm(weight: w, bias: b, eps: 1e-5)
        let expected = (x - x.mean(axes: [2], keepDims: true)) / (x.variance(axes: [2], keepDims: true) + 1e-5).sqrt() * w + b
        for (a, e) in zip(y.values, expected.values) { XCTAssertEqual(a, e, accuracy: 1e-4) }
        checkGradients([x, w, b]) { $0[0].layerNorm(weight: $0[1], bias: $0[2], eps: 1e-5) }
    }

    func testSoftmaxAndActivations() {
        let x = testTensor([3, 9], seed: 33, scale: 4)
        let y = x.softmax()
        let e = x.values.prefix(9).map { Foundation.exp($0) }
        XCTAssertEqual(y.values[2], e[2] / e.reduce(0, +), accuracy: 1e-6)
        checkGradients([x]) { $0[0].softmax() }
        let v = testTensor([50], seed: 34, scale: 3)
        for (a, s) in zip(v.silu().values, v.values) { XCTAssertEqual(a, s / (1 + Foundation.exp(-s)), accuracy: 1e-5) }
        for (a, s) in zip(v.gelu().values, v.values) { XCTAssertEqual(a, 0.5 * s * (1 + Foundation.erf(s / Float(2).squareRoot())), accuracy: 1e-5) }
        for (a, s) in zip(v.activation(.quickGelu).values, v.values) { XCTAssertEqual(a, s / (1 + Foundation.exp(-1.702 * s)), accuracy: 1e-5) }
        let tanhForm = v.values.map { 0.5 * $0 * (1 + Foundation.tanh(0.7978845608 * ($0 + 0.044715 * $0 * $0 * $0))) }
        for (a, t) in zip(v.activation(.geluTanh).values, tanhForm) { XCTAssertEqual(a, t, accuracy: 1e-5) }
        for f in [Activation.silu, .gelu, .geluTanh, .quickGelu] { checkGradients([v]) { $0[0].activation(f) } }
    }

    // GEGLU is the composite it replaces (slices, GELU, product) to the bit, forward and backward.
    func testGEGLUMatchesCompositeAndGradients() {
        let x = testTensor([3, 4, 2 * 19], seed: 40, scale: 3)
        let y = x.geglu()
        let composite = x.slice(axis: 2, start: 0, length: 19) * x.slice(axis: 2, start: 19, length: 19).gelu()
        XCTAssertEqual(y.shape, [3, 4, 19])
        XCTAssertEqual(y.values, composite.values)
        let weights = testTensor([3, 4, 19], seed: 41)
        func gradient(_ f: (Tensor) -> Tensor) -> [Float] {
            let input = x.requiringGrad()
            (f(input) * weights).sum().backward()
            return input.grad?.values ?? []
        }
        XCTAssertEqual(gradient { $0.geglu() },
                       gradient { $0.slice(axis: 2, start: 0, length: 19) * $0.slice(axis: 2, start: 19, length: 19).gelu() })
        checkGradients([testTensor([2, 6], seed: 42, scale: 2)]) { $0[0].geglu() }
        // For bf16 inference: the same values rounded to bf16 (ties to even), stored so.
        let rounded = y.storedInBFloat16(), stored = x.gegluStoredInBFloat16()
        XCTAssertTrue(stored.isBFloat16)
        XCTAssertEqual(stored.shape, [3, 4, 19])
        XCTAssertEqual(stored.float32Values().values, rounded.float32Values().values)
        // On an input stored in bf16 (a bf16 linear output): geglu of its values, rounded; the
        // input's gradient is stored in bf16 too, the float32 gradient rounded.
        let input16 = x.storedInBFloat16(), widened = input16.float32Values()
        let fromStored = input16.gegluStoredInBFloat16()
        XCTAssertEqual(fromStored.float32Values().values, widened.geglu().storedInBFloat16().float32Values().values)
        XCTAssertEqual(input16.geglu().values, widened.geglu().values)
        let tracked = input16.requiringGrad(), reference = widened.requiringGrad()
        tracked.gegluStoredInBFloat16().backward(weights)
        reference.geglu().backward(weights)
        XCTAssertEqual(tracked.grad?.isBFloat16, true)
        XCTAssertEqual(tracked.grad?.float32Values().values, reference.grad?.storedInBFloat16().float32Values().values)
    }

    func testAttentionMatchesNaiveAndGradients() {
        let q = testTensor([2, 5, 4], seed: 35), k = testTensor([2, 7, 4], seed: 36), v = testTensor([2, 7, 3], seed: 37)
        for causal in [false, true] {
            let lk = causal ? 5 : 7
            let kk = k.slice(axis: 1, start: 0, length: lk), vv = v.slice(axis: 1, start: 0, length: lk)
            let out = Tensor.attention(q, kk, vv, scale: 0.5, causal: causal)
            var scores = Tensor.matmul(q, kk, transposeB: true) * 0.5
            if causal {
                let mask = try! Tensor(shape: [5, 5], values: (0..<25).map { ($0 % 5) > ($0 / 5) ? -1e9 : 0 })
                scores = scores + mask
            }
            let naive = Tensor.matmul(scores.softmax(), vv)
            for (a, e) in zip(out.values, naive.values) { XCTAssertEqual(a, e, accuracy: 1e-5) }
            checkGradients([q, kk, vv]) { Tensor.attention($0[0], $0[1], $0[2], scale: 0.5, causal: causal) }
        }
    }

    func testResultsIndependentOfThreadCount() {
        let x = testTensor([4, 8, 9, 9], seed: 38), w = testTensor([8, 8, 3, 3], seed: 39)
        let g = testTensor([8], seed: 40, offset: 1), b = testTensor([8], seed: 41)
        func run() -> [Float] {
            let y = Tensor.conv2d(x.requiringGrad(), w, bias: nil, stride: 1, padding: 1)
                .groupNorm(groups: 4, weight: g, bias: b, eps: 1e-5, silu: true)
            return y.values + y.softmax().values
        }
        let saved = Threads.count
        defer { Threads.count = saved }
        Threads.count = 1
        let one = run()
        Threads.count = 2
        XCTAssertEqual(one, run())
    }
}
