// The bf16 precision: rounding, the emulated products (GEMM, linear, convolution, attention) against
// float32 products of operands rounded by the Swift converter, and the float32 fallback on CPUs
// without bf16. The emulated path has bf16's numerics on any CPU, so these run everywhere.
import CKernels
import Foundation
import TestSupport
import XCTest
@testable import TensorCore

final class BFloat16PrecisionTests: XCTestCase {
    override func tearDown() {
        XCTAssertNoThrow(try ComputePrecision.use(.float32))
        super.tearDown()
    }

    /// Values rounded to bf16 by the Swift converter (round to nearest even, as PyTorch), independent of the C kernel.
    func rounded(_ values: [Float]) -> [Float] {
        values.map { Float16Conversion.float(fromBFloat16Bits: Float16Conversion.bfloat16Bits(from: $0)) }
    }

    func rounded(_ t: Tensor) -> Tensor {
        try! Tensor(shape: t.shape, values: rounded(t.values))  // test-only: the shape is t's own
    }

    func testRoundingMatchesTheConverter() {
        // Ties in both directions, the largest finite values, infinities, subnormals, NaN.
        var values: [Float] = [0, -0, 1, 1 + 1.0 / 256, 1 + 3.0 / 256, 1 + 1.0 / 128 + 1.0 / 256, .greatestFiniteMagnitude,
                               -.greatestFiniteMagnitude, .infinity, -.infinity, .leastNonzeroMagnitude, 1e-40, .nan]
        values += testTensor([70_000], seed: 3, scale: 1000).values  // enough to split across threads
        var output = [Float](repeating: 0, count: values.count)
        XCTAssertEqual(dk_round_bf16(values, &output, Int64(values.count)), 0)
        let expected = rounded(values)
        for index in values.indices {
            let (a, e) = (output[index], expected[index])
            XCTAssertTrue(a == e || (a.isNaN && e.isNaN), "bf16(\(values[index])) = \(a), expected \(e)")
        }
        XCTAssertEqual(output[3], 1, "a tie rounds to even (down)")
        XCTAssertEqual(output[4], 1 + 4.0 / 256, "a tie rounds to even (up)")
    }

    func testEmulatedProductsAreFloat32ProductsOfRoundedOperands() throws {
        let x = testTensor([37, 70], seed: 4), w = testTensor([50, 70], seed: 5, scale: 0.2), b = testTensor([50], seed: 6)
        let a3 = testTensor([3, 20, 33], seed: 7), b3 = testTensor([3, 33, 17], seed: 8)
        let xc = testTensor([2, 24, 9, 9], seed: 9), wc = testTensor([32, 24, 3, 3], seed: 10, scale: 0.1)
        let bc = testTensor([32], seed: 11)
        let exactLinear = Tensor.linear(x, weight: w, bias: b), exactBatched = Tensor.matmul(a3, b3)
        let exactConv = Tensor.conv2d(xc, wc, bias: bc, padding: 1)
        let expectedLinear = Tensor.linear(rounded(x), weight: rounded(w), bias: b)
        let expectedBatched = Tensor.matmul(rounded(a3), rounded(b3))
        let expectedConv = Tensor.conv2d(rounded(xc), rounded(wc), bias: bc, padding: 1)

        XCTAssertEqual(try ComputePrecision.use(.bfloat16, emulate: true), .bfloat16Emulated)
        XCTAssertEqual(ComputePrecision.mode, .bfloat16Emulated)
        let linear = Tensor.linear(x, weight: w, bias: b), batched = Tensor.matmul(a3, b3)
        let transposed = Tensor.matmul(a3.transposed(1, 2), b3, transposeA: true)
        let conv = Tensor.conv2d(xc, wc, bias: bc, padding: 1)
        // Products of bf16 values are exact in float32: only the summation order may differ.
        assertClose(linear, expectedLinear, relative: 1e-6, "linear")
        assertClose(batched, expectedBatched, relative: 1e-6, "batched matmul")
        assertClose(transposed, expectedBatched, relative: 1e-6, "matmul with a transposed operand")
        assertClose(conv, expectedConv, relative: 1e-6, "convolution")
        // And bf16 moves the result, within bf16's 2⁻⁸ relative rounding of each operand.
        for (name, approximate, exact) in [("linear", linear, exactLinear), ("matmul", batched, exactBatched), ("conv", conv, exactConv)] {
            let worst = maxAbsDifference(approximate.values, exact.values)
            XCTAssertGreaterThan(worst, 0, "\(name): bf16 should round somewhere")
            assertClose(approximate, exact, relative: 0.02, "\(name) in bf16 against float32")
        }
        try ComputePrecision.use(.float32)
        XCTAssertEqual(Tensor.linear(x, weight: w, bias: b).values, exactLinear.values, "back to float32")
    }

    /// Native bf16 adds linear's bias in the product's epilogue: one float32 addition per value, so
    /// exactly the product without bias plus the bias, on float32 weights (kept in a frozen scope
    /// too) and weights stored in bf16 alike, and the emulated numerics up to summation order.
    func testNativeLinearAddsTheBiasInTheProduct() throws {
        let x = testTensor([37, 70], seed: 31), w = testTensor([50, 70], seed: 32, scale: 0.2)
        let b = testTensor([50], seed: 33, scale: 3)
        try ComputePrecision.use(.bfloat16, emulate: true)
        let emulated = Tensor.linear(x, weight: w, bias: b)
        guard try ComputePrecision.use(.bfloat16, emulate: false) == .bfloat16 else {
            XCTAssertFalse(ComputePrecision.nativeBFloat16, "this CPU has bf16 and did not use it")
            return
        }
        for (name, weight, isParameter) in [("float32", w, false), ("float32 parameter", w, true),
                                            ("stored in bf16", w.storedInBFloat16(), false)] {
            let product = Tensor.linear(x, weight: weight, bias: nil, weightIsParameter: isParameter)
            let biased = Tensor.linear(x, weight: weight, bias: b, weightIsParameter: isParameter)
            let kept = FrozenWeights.during(budgetBytes: 1 << 20) {
                Tensor.linear(x, weight: weight, bias: b, weightIsParameter: isParameter)
            }
            let expected = (0..<(37 * 50)).map { product.values[$0] + b.values[$0 % 50] }
            XCTAssertEqual(biased.values, expected, "bias in the epilogue, \(name)")
            XCTAssertEqual(kept.values, expected, "bias in the epilogue in a frozen scope, \(name)")
            assertClose(biased, emulated, relative: 1e-6, "native against emulated bf16 linear, \(name)")
        }
    }

    // Under bf16, linear's backward pass keeps its input rounded to bf16 for the weight gradient,
    // the only gradient that reads it: the gradients are still the float32 products of rounded
    // operands, and an input held by nothing else is freed after the forward pass. Native bf16
    // converts the output gradient once for both products.
    func testLinearGradientsUnderBFloat16KeepTheInputInBFloat16() throws {
        let p = testTensor([37, 70], seed: 41), w = testTensor([50, 70], seed: 42, scale: 0.2)
        let b = testTensor([50], seed: 43), g = testTensor([37, 50], seed: 44)
        /// The gradients of x, w and b for the loss sum(linear(x) · g), x = 2p; and whether x's
        /// values outlived the forward pass.
        func gradients() -> (grads: [[Float]], inputKept: Bool) {
            let (p, w, b) = (p.requiringGrad(), w.requiringGrad(), b.requiringGrad())
            var x: Tensor? = p * 2
            weak let storage = x?.storage
            let loss = (Tensor.linear(x!, weight: w, bias: b) * g).sum()
            x = nil
            let kept = storage != nil
            loss.backward()
            return ([p, w, b].map { $0.grad?.values ?? [] }, kept)
        }
        let x = p * 2
        let expected = [(Tensor.matmul(rounded(g), rounded(w)) * 2).values,
                        Tensor.matmul(rounded(g), rounded(x), transposeA: true).values, g.summed(toShape: [50]).values]
        XCTAssertTrue(gradients().inputKept, "float32 keeps the input itself")
        for emulate in [true, false] {
            guard try ComputePrecision.use(.bfloat16, emulate: emulate) != .float32 else {
                XCTAssertFalse(ComputePrecision.nativeBFloat16, "this CPU has bf16 and did not use it")
                continue
            }
            let (grads, kept) = gradients()
            XCTAssertFalse(kept, "bf16 (emulated: \(emulate)) keeps only the rounded copy of the input")
            if !emulate {
                let both = Tensor.bfloat16Gradients(g.storedInBFloat16(), weight: w, input: x.storedInBFloat16())
                XCTAssertNotNil(both, "both products take the bf16 output gradient")
                if let both { assertClose(both.weight.values, expected[1], relative: 1e-5, "dw from the bf16 output gradient") }
            }
            for (name, (got, want)) in zip(["dx", "dw", "db"], zip(grads, expected)) {
                assertClose(got, want, relative: 1e-5, "\(name) under bf16, emulated: \(emulate)")
            }
        }
    }

    // Native bf16: a linear layer may store its output in bf16 (for GEGLU), rounded from the float32
    // result; a gradient that comes back in bf16 feeds both products as it is, and the bias gradient
    // sums its values in float32.
    func testLinearOutputAndGradientInBFloat16() throws {
        guard try ComputePrecision.use(.bfloat16) == .bfloat16 else {
            XCTAssertFalse(ComputePrecision.nativeBFloat16, "this CPU has bf16 and did not use it")
            return
        }
        let x = testTensor([37, 70], seed: 51), w = testTensor([50, 70], seed: 52, scale: 0.2)
        let b = testTensor([50], seed: 53), g = testTensor([37, 50], seed: 54)
        let plain = Tensor.linear(x, weight: w, bias: b)
        let stored = Tensor.linear(x, weight: w, bias: b, outputInBFloat16: true)
        XCTAssertTrue(stored.isBFloat16)
        XCTAssertFalse(plain.isBFloat16)
        XCTAssertEqual(stored.float32Values().values, rounded(plain.values))
        func gradients(_ outputGradient: Tensor) -> [[Float]] {
            let (x, w, b) = (x.requiringGrad(), w.requiringGrad(), b.requiringGrad())
            Tensor.linear(x, weight: w, bias: b, outputInBFloat16: true).backward(outputGradient)
            return [x, w, b].map { $0.grad?.values ?? [] }
        }
        let g16 = g.storedInBFloat16()
        let (fromStored, fromRounded) = (gradients(g16), gradients(g16.float32Values()))
        XCTAssertEqual(fromStored[0], fromRounded[0], "dx")
        XCTAssertEqual(fromStored[1], fromRounded[1], "dw")
        let sums = (0..<50).map { j in (0..<37).reduce(Float(0)) { $0 + rounded(g.values)[$1 * 50 + j] } }
        XCTAssertEqual(fromStored[2], sums, "db: the rounded gradient's column sums, row by row")
        assertClose(fromStored[1], Tensor.matmul(rounded(g), rounded(x), transposeA: true).values, relative: 1e-5, "dw")
    }

    func testLinearFloat32GradientRoundedOnceWithItsBiasSums() throws {
        guard try ComputePrecision.use(.bfloat16) == .bfloat16 else {
            XCTAssertFalse(ComputePrecision.nativeBFloat16, "this CPU has bf16 and did not use it")
            return
        }
        // 600 rows: three blocks of the column sums, the last partial.
        let x = testTensor([600, 24], seed: 61), w = testTensor([20, 24], seed: 62, scale: 0.2)
        let b = testTensor([20], seed: 63), g = testTensor([600, 20], seed: 64)
        func gradients(_ outputGradient: Tensor) -> [[Float]] {
            let (x, w, b) = (x.requiringGrad(), w.requiringGrad(), b.requiringGrad())
            Tensor.linear(x, weight: w, bias: b).backward(outputGradient)
            return [x, w, b].map { $0.grad?.values ?? [] }
        }
        let (fromFloat32, fromRounded) = (gradients(g), gradients(g.storedInBFloat16()))
        XCTAssertEqual(fromFloat32[0], fromRounded[0], "dx: the products read g rounded")
        XCTAssertEqual(fromFloat32[1], fromRounded[1], "dw: the products read g rounded")
        let sums = (0..<20).map { j in Float((0..<600).reduce(0.0) { $0 + Double(g.values[$1 * 20 + j]) }) }
        assertClose(fromFloat32[2], sums, relative: 1e-5, "db: g's own float32 column sums")
        XCTAssertGreaterThan(maxAbsDifference(fromFloat32[2], fromRounded[2]), 0, "db must not come from the rounded g")
    }

    func testEmulatedAttentionRoundsBothProductsOnly() throws {
        // 300 queries: two chunks, the second partial. q, k, v [B, L, D].
        let q = testTensor([2, 300, 16], seed: 12), k = testTensor([2, 45, 16], seed: 13), v = testTensor([2, 45, 8], seed: 14)
        let scale: Float = 0.25
        // Reference in double: softmax of rounded q·kᵀ, probabilities rounded before the product with rounded v.
        let (rq, rk, rv) = (rounded(q).values, rounded(k).values, rounded(v).values)
        var expected = [Float](repeating: 0, count: 2 * 300 * 8)
        for b in 0..<2 {
            for i in 0..<300 {
                var scores = [Double](repeating: 0, count: 45)
                for j in 0..<45 {
                    var dot = 0.0
                    for d in 0..<16 { dot += Double(rq[(b * 300 + i) * 16 + d]) * Double(rk[(b * 45 + j) * 16 + d]) }
                    scores[j] = dot * Double(scale)
                }
                let top = scores.max() ?? 0
                let weights: [Double] = scores.map { Foundation.exp($0 - top) }
                let sum: Double = weights.reduce(0, +)
                let p: [Float] = rounded(weights.map { Float($0) })
                for d in 0..<8 {
                    var o = 0.0
                    for j in 0..<45 { o += Double(p[j]) * Double(rv[(b * 45 + j) * 8 + d]) }
                    expected[(b * 300 + i) * 8 + d] = Float(o / sum)
                }
            }
        }
        let exact = Tensor.attention(q, k, v, scale: scale)
        try ComputePrecision.use(.bfloat16, emulate: true)
        let approximate = Tensor.attention(q, k, v, scale: scale)
        // The probabilities are rounded in float32 from float32 scores (the reference's come from
        // double), which may land on the neighbouring bf16 value: one bf16 step of a weight < 1.
        assertClose(approximate.values, expected, relative: 1e-3, "attention against the rounded reference")
        XCTAssertGreaterThan(maxAbsDifference(approximate.values, exact.values), 0, "bf16 should round somewhere")
        assertClose(approximate, exact, relative: 0.02, "attention in bf16 against float32")
    }

    func testNativeAttentionComputesTheEmulatedNumerics() throws {
        // Chunks with a partial last one and blocks of rows; odd head and key counts (padded
        // pairs); keys and an output width across 64-column panels and no multiple of 16; with
        // and without the causal mask; a negative scale, whose largest scaled score is the
        // smallest score. Heads and values 8 wide or less take the narrow kernel, with an odd
        // count of key pairs (under the causal mask, 70 queries see 70 of 149 keys: the packed
        // pair after the last one read holds values).
        for (queries, d, dv, keys) in [(300, 15, 70, 151), (300, 8, 8, 77), (70, 5, 7, 149)] {
            let q = testTensor([3, queries, d], seed: 21), k = testTensor([3, keys, d], seed: 22)
            let v = testTensor([3, keys, dv], seed: 23)
            try assertNativeAttentionComputesTheEmulatedNumerics(q, k, v)
        }
    }

    private func assertNativeAttentionComputesTheEmulatedNumerics(_ q: Tensor, _ k: Tensor, _ v: Tensor) throws {
        for causal in [false, true] {
            for scale: Float in [0.3, -0.2] {
                try ComputePrecision.use(.bfloat16, emulate: true)
                let emulated = Tensor.attention(q, k, v, scale: scale, causal: causal)
                guard try ComputePrecision.use(.bfloat16, emulate: false) == .bfloat16 else {
                    XCTAssertFalse(ComputePrecision.nativeBFloat16, "this CPU has bf16 and did not use it")
                    return
                }
                XCTAssertNotEqual(dk_bf16_gemm_available(), 0, "attention's bf16 kernel runs wherever bf16 does")
                let native = Tensor.attention(q, k, v, scale: scale, causal: causal)
                // Up to summation order and the exponential's last bits, which may move a
                // probability to the neighbouring bf16 value.
                assertClose(native, emulated, relative: 1e-3,
                            "native against emulated bf16, q \(q.shape), v \(v.shape), causal \(causal), scale \(scale)")
            }
        }
    }

    func testNativeAttentionGradientsComputeTheEmulatedNumerics() throws {
        // Odd query blocks (301 queries: a partial chunk of 45), an odd head width and key count
        // (padded pairs), keys and value widths across 64-column panels, the causal mask, a
        // negative scale; 3 batch entries split their queries into two groups whose partial key
        // and value gradients are summed, 9 take one group each. Heads 8 wide or less take the
        // narrow kernel for the query gradient, with an odd count of key pairs.
        for (batch, d, dv, keys) in [(3, 15, 70, 151), (9, 15, 70, 151), (3, 8, 8, 77), (9, 6, 5, 149)] {
            let lq = batch == 3 ? 301 : 70
            func gradients(causal: Bool, scale: Float) -> [[Float]] {
                let q = testTensor([batch, lq, d], seed: 31).requiringGrad()
                let k = testTensor([batch, keys, d], seed: 32).requiringGrad()
                let v = testTensor([batch, keys, dv], seed: 33).requiringGrad()
                let weights = testTensor([batch, lq, dv], seed: 34)
                (Tensor.attention(q, k, v, scale: scale, causal: causal) * weights).sum().backward()
                return [q, k, v].map { $0.grad?.values ?? [] }
            }
            for (causal, scale) in [(false, Float(0.3)), (true, Float(-0.2))] {
                try ComputePrecision.use(.bfloat16, emulate: true)
                let emulated = gradients(causal: causal, scale: scale)
                guard try ComputePrecision.use(.bfloat16, emulate: false) == .bfloat16 else {
                    XCTAssertFalse(ComputePrecision.nativeBFloat16, "this CPU has bf16 and did not use it")
                    return
                }
                for (name, (native, emulated)) in zip(["dq", "dk", "dv"], zip(gradients(causal: causal, scale: scale), emulated)) {
                    // Up to summation order and the exponential's last bits, which may move a
                    // probability or its gradient to the neighbouring bf16 value.
                    assertClose(native, emulated, relative: 2e-3,
                                "\(name): native against emulated bf16, batch \(batch), d \(d), dv \(dv), causal \(causal), scale \(scale)")
                }
            }
        }
    }

    // Attention on the heads' own layout [B, L, heads·D] reads and writes the heads in place, and
    // so does its backward pass; both must give what splitting the heads, attending and merging
    // them gives, in every precision. Batch 2 splits its queries into groups with partial key
    // and value gradients (2 · 3 heads < 8 entries), batch 3 does not.
    func testAttentionOnTheHeadsLayoutMatchesSplitHeads() throws {
        let (heads, d, dv) = (3, 7, 5)
        for b in [2, 3] {
            let lq = b == 2 ? 300 : 70
            let q = testTensor([b, lq, heads * d], seed: 24), k = testTensor([b, 33, heads * d], seed: 25)
            let v = testTensor([b, 33, heads * dv], seed: 26), weights = testTensor([b, lq, heads * dv], seed: 27)
            func split(_ t: Tensor, _ width: Int) -> Tensor {
                t.reshaped([b, t.shape[1], heads, width]).permuted([0, 2, 1, 3]).reshaped([b * heads, t.shape[1], width])
            }
            /// The output and the gradients of q, k and v, in place or through split heads.
            func run(inPlace: Bool, causal: Bool) -> [[Float]] {
                let (q, k, v) = (q.requiringGrad(), k.requiringGrad(), v.requiringGrad())
                let out: Tensor
                if inPlace {
                    out = Tensor.attention(q, k, v, heads: heads, scale: 0.4, causal: causal)
                } else {
                    let perHead = Tensor.attention(split(q, d), split(k, d), split(v, dv), scale: 0.4, causal: causal)
                    out = perHead.reshaped([b, heads, lq, dv]).permuted([0, 2, 1, 3]).reshaped([b, lq, heads * dv])
                }
                XCTAssertEqual(out.shape, [b, lq, heads * dv])
                (out * weights).sum().backward()
                return [out.values] + [q, k, v].map { $0.grad?.values ?? [] }
            }
            let modes: [(ComputePrecision, Bool)] = [(.float32, false), (.bfloat16, true), (.bfloat16, false)]
            for (format, emulate) in modes {
                let mode = try ComputePrecision.use(format, emulate: emulate)
                for causal in [false, true] {
                    let (inPlace, perHead) = (run(inPlace: true, causal: causal), run(inPlace: false, causal: causal))
                    let without = Autograd.withoutGrad { Tensor.attention(q, k, v, heads: heads, scale: 0.4, causal: causal) }
                    assertClose(without.values, inPlace[0], relative: 1e-6, "\(mode), causal \(causal): without gradients")
                    for (name, (a, expected)) in zip(["out", "dq", "dk", "dv"], zip(inPlace, perHead)) {
                        assertClose(a, expected, relative: 1e-6, "\(name), \(mode), batch \(b), causal \(causal)")
                    }
                }
            }
        }
    }

    func testEmulatedConvolutionGradientsAreFloat32GradientsOfRoundedOperands() throws {
        // Mixed-precision training: each gradient kernel reads its two operands in bf16.
        let (n, c, h, k) = (2, 24, 9, 32)
        let x = testTensor([n, c, h, h], seed: 17), w = testTensor([k, c, 3, 3], seed: 18, scale: 0.1)
        let dy = testTensor([n, k, h, h], seed: 19)
        /// dx [N, C, H, W] and dw [K, C, 3, 3] of a 3×3 convolution with padding 1.
        func gradients(x: [Float], w: [Float], dy: [Float]) -> (dx: [Float], dw: [Float]) {
            var dx = [Float](repeating: 0, count: n * c * h * h), dw = [Float](repeating: 0, count: k * c * 9)
            var db = [Float](repeating: 0, count: k)
            let (N, C, H, K) = (Int64(n), Int64(c), Int64(h), Int64(k))
            XCTAssertEqual(dk_conv2d_backward_data(dy, w, &dx, N, C, H, H, K, 3, 3, 1, 1, H, H), 0)
            XCTAssertEqual(dk_conv2d_backward_weights(x, dy, &dw, &db, N, C, H, H, K, 3, 3, 1, 1, H, H), 0)
            return (dx, dw)
        }
        let exact = gradients(x: x.values, w: w.values, dy: dy.values)
        let expected = gradients(x: rounded(x.values), w: rounded(w.values), dy: rounded(dy.values))
        try ComputePrecision.use(.bfloat16, emulate: true)
        let emulated = gradients(x: x.values, w: w.values, dy: dy.values)
        assertClose(emulated.dx, expected.dx, relative: 1e-6, "data gradient of rounded operands")
        assertClose(emulated.dw, expected.dw, relative: 1e-6, "weight gradient of rounded operands")
        for (name, approximate, float32) in [("dx", emulated.dx, exact.dx), ("dw", emulated.dw, exact.dw)] {
            XCTAssertGreaterThan(maxAbsDifference(approximate, float32), 0, "\(name): bf16 should round somewhere")
            assertClose(approximate, float32, relative: 0.02, "\(name) in bf16 against float32")
        }
    }

    func testBFloat16AttentionGradientsStayNearFloat32() throws {
        // Through autodiff: q, k, v [B, L, D] with 300 queries (two chunks).
        func gradients() -> [[Float]] {
            let q = testTensor([2, 300, 16], seed: 20).requiringGrad(), k = testTensor([2, 45, 16], seed: 21).requiringGrad()
            let v = testTensor([2, 45, 8], seed: 22).requiringGrad()
            let weights = testTensor([2, 300, 8], seed: 23)
            (Tensor.attention(q, k, v, scale: 0.25) * weights).sum().backward()
            return [q, k, v].map { $0.grad?.values ?? [] }
        }
        let exact = gradients()
        try ComputePrecision.use(.bfloat16, emulate: true)
        let emulated = gradients()
        for (name, (approximate, float32)) in zip(["dq", "dk", "dv"], zip(emulated, exact)) {
            XCTAssertGreaterThan(maxAbsDifference(approximate, float32), 0, "\(name): bf16 should round somewhere")
            assertClose(approximate, float32, relative: 0.03, "\(name) in bf16 against float32")
        }
        // Native bf16: the backward pass reads the logsumexp of the native forward's softmax.
        guard try ComputePrecision.use(.bfloat16, emulate: false) == .bfloat16 else { return }
        for (name, (native, float32)) in zip(["dq", "dk", "dv"], zip(gradients(), exact)) {
            assertClose(native, float32, relative: 0.03, "\(name) in native bf16 against float32")
        }
    }

    func testBFloat16FallsBackToFloat32OnlyWhereTheCPUHasNoBFloat16() throws {
        let x = testTensor([2, 32, 12, 12], seed: 15), w = testTensor([48, 32, 3, 3], seed: 16, scale: 0.1)
        let exact = Tensor.conv2d(x, w, bias: nil, padding: 1)
        let mode = try ComputePrecision.use(.bfloat16, emulate: false)
        let result = Tensor.conv2d(x, w, bias: nil, padding: 1)
        if ComputePrecision.nativeBFloat16 {
            // oneDNN's own bf16 kernels: the emulated path's numerics, up to summation order.
            XCTAssertEqual(mode, .bfloat16)
            // A 1x1 convolution with a bias (oneDNN's bf16 kernel on plain layouts).
            let w1 = testTensor([40, 32, 1, 1], seed: 17, scale: 0.1), b1 = testTensor([40], seed: 18)
            let pointwise = Tensor.conv2d(x, w1, bias: b1, padding: 0)
            try ComputePrecision.use(.bfloat16, emulate: true)
            assertClose(result, Tensor.conv2d(x, w, bias: nil, padding: 1), relative: 1e-5, "native against emulated bf16")
            assertClose(pointwise, Tensor.conv2d(x, w1, bias: b1, padding: 0), relative: 1e-5, "1x1: native against emulated bf16")
            try ComputePrecision.use(.float32)
            XCTAssertGreaterThan(maxAbsDifference(pointwise.values, Tensor.conv2d(x, w1, bias: b1, padding: 0).values), 0,
                                 "1x1: bf16 should round somewhere")
        } else {
            XCTAssertEqual(mode, .float32, "no bf16 on this CPU: float32, never the slow reference kernels")
            XCTAssertEqual(dk_set_precision(Int32(DK_PRECISION_BF16)), Int32(DK_ERR_BACKEND), "the kernel refuses too")
            XCTAssertEqual(result.values, exact.values)
        }
    }
}
