// Diffuse's own bf16 convolutions against a double-precision direct convolution: the Winograd
// F(2x2, 3x3) (winograd_bf16.c), with the error of oneDNN's direct bf16 convolution as the
// yardstick, the 1x1 convolution on the bf16 GEMM kernel (conv1x1_bf16.c), and the 3x3 weight
// gradient on it (conv3x3_bf16_grad.c).
import CKernels
import XCTest

final class BFloat16ConvolutionTests: XCTestCase {
    struct Problem {
        let N, C, H, W, K, R: Int  // R x R kernel, stride 1, padding R / 2
        let x, w, b: [Float]
        init(N: Int, C: Int, H: Int, W: Int, K: Int, R: Int = 3, seed: UInt64) {
            (self.N, self.C, self.H, self.W, self.K, self.R) = (N, C, H, W, K, R)
            var rng = TestRandom(seed: seed)
            x = rng.floats(N * C * H * W)
            w = rng.floats(K * C * R * R, scale: 0.2)
            b = rng.floats(K)
        }

        // y [N, K, H, W] in double precision
        var reference: [Double] {
            var y = [Double](repeating: 0, count: N * K * H * W)
            for n in 0..<N { for k in 0..<K { for oh in 0..<H { for ow in 0..<W {
                var acc = Double(b[k])
                for c in 0..<C { for r in 0..<R { for s in 0..<R {
                    let h = oh - R / 2 + r, ww = ow - R / 2 + s
                    if h < 0 || h >= H || ww < 0 || ww >= W { continue }
                    acc += Double(x[((n * C + c) * H + h) * W + ww]) * Double(w[((k * C + c) * R + r) * R + s])
                } } }
                y[((n * K + k) * H + oh) * W + ow] = acc
            } } } }
            return y
        }

        func forward(_ mode: Int32, weights: [Float]? = nil, bf16Weights: [UInt16]? = nil, bias: Bool = true) -> [Float] {
            var y = [Float](repeating: .nan, count: N * K * H * W)
            dk_conv_set_mode(mode)
            defer { dk_conv_set_mode(Int32(DK_CONV_AUTO)) }
            let d = [N, C, H, W, K, R, R, 1, R / 2, H, W].map(Int64.init)
            let rc = bf16Weights.map {
                dk_conv2d_forward_bf16_weights(x, $0, bias ? b : nil, &y, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8],
                                               d[9], d[10])
            } ?? dk_conv2d_forward(x, weights ?? w, bias ? b : nil, &y, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8],
                                   d[9], d[10])
            XCTAssertEqual(rc, 0, "\(self)")
            return y
        }
    }

    private var savedPrecision: Int32 = 0

    override func setUp() {
        savedPrecision = dk_get_precision()
        if dk_bf16_gemm_available() != 0 { XCTAssertEqual(dk_set_precision(Int32(DK_PRECISION_BF16)), 0) }
    }

    override func tearDown() { dk_set_precision(savedPrecision) }

    /// Root mean square of a - b over that of b.
    func relativeRMS(_ a: [Float], _ b: [Double]) -> Double {
        var diff = 0.0, norm = 0.0
        for i in b.indices {
            diff += (Double(a[i]) - b[i]) * (Double(a[i]) - b[i])
            norm += b[i] * b[i]
        }
        return (diff / norm).squareRoot()
    }

    /// Partial tiles at the right and bottom edges, odd channel counts (a zero-padded pair),
    /// tile rows narrower than their 16 columns, output channels across passes of 48, images
    /// across panels of 64 tiles, and 1-pixel-wide images.
    func testWinogradAgainstDoubleDirectConvolution() {
        let problems = [
            Problem(N: 2, C: 19, H: 9, W: 37, K: 13, seed: 1),
            Problem(N: 1, C: 130, H: 16, W: 32, K: 100, seed: 2),
            Problem(N: 3, C: 8, H: 2, W: 1, K: 5, seed: 3),
            Problem(N: 3, C: 33, H: 11, W: 64, K: 49, seed: 4),
            // Narrow images, whose vectors hold several tile rows, across images too.
            Problem(N: 3, C: 33, H: 5, W: 7, K: 20, seed: 7),
            Problem(N: 2, C: 16, H: 6, W: 16, K: 9, seed: 8),
            Problem(N: 5, C: 3, H: 3, W: 3, K: 4, seed: 9),
            // Two panels of tiles for two threads: each splits into chunks of output channels.
            Problem(N: 2, C: 40, H: 16, W: 16, K: 100, seed: 10),
            // One panel: each job transforms the weights it multiplies, pass by pass of 48.
            Problem(N: 1, C: 24, H: 8, W: 8, K: 100, seed: 15),
        ]
        guard dk_bf16_gemm_available() != 0 else {
            // No AVX-512 BF16: the mode is float32 Winograd, within float32's error.
            for p in problems {
                XCTAssertLessThan(relativeError(p.forward(Int32(DK_CONV_WINOGRAD_BF16)), p.reference), 1e-5, "\(p.N)x\(p.C)")
            }
            return
        }
        for p in problems {
            let what = "N \(p.N) C \(p.C) \(p.H)x\(p.W) K \(p.K)"
            let reference = p.reference
            let winograd = p.forward(Int32(DK_CONV_WINOGRAD_BF16)), direct = p.forward(Int32(DK_CONV_BLOCKED))
            XCTAssertFalse(winograd.contains { $0.isNaN }, "\(what): every output written")
            // bf16 operands: about 4e-3 of the largest output at worst, for direct and Winograd alike.
            XCTAssertLessThan(relativeError(winograd, reference), 1e-2, what)
            let errors = (relativeRMS(winograd, reference), relativeRMS(direct, reference))
            XCTAssertGreaterThan(errors.0, 1e-4, "\(what): the products should round to bf16")
            // The transformed tiles round with 1.7x direct bf16's error (RMS, C = K = 256); few
            // outputs make the ratio noisy, so the smallest problem has only the bound above.
            if reference.count >= 1000 { XCTAssertLessThan(errors.0, 2.5 * errors.1, what) }
        }
        let p = problems[0]  // without a bias
        let unbiased = p.reference.enumerated().map { $0.element - Double(p.b[($0.offset / (p.H * p.W)) % p.K]) }
        XCTAssertLessThan(relativeError(p.forward(Int32(DK_CONV_WINOGRAD_BF16), bias: false), unbiased), 1e-2)
    }

    /// Weights stored as bf16 bits give the same outputs as their float32 values, and a
    /// frozen-weights scope keeps each weight tensor's transform apart and reuses it (for one
    /// panel of tiles too, whose weights are otherwise transformed inside its jobs).
    func testWinogradBFloat16WeightsAndKeptTransforms() {
        guard dk_bf16_gemm_available() != 0 else {  // testWinogradAgainstDoubleDirectConvolution covers the fallback
            XCTAssertEqual(dk_bf16_native_supported(), 0, "bf16 convolutions run natively, so the bf16 kernel must too")
            return
        }
        for p in [Problem(N: 2, C: 21, H: 10, W: 30, K: 50, seed: 5), Problem(N: 1, C: 24, H: 8, W: 8, K: 100, seed: 16)] {
            let bits = p.w.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) }  // truncated: exact bf16 values
            let rounded = bits.map { Float(bitPattern: UInt32($0) << 16) }
            let other = p.w.map { -$0 }
            let mode = Int32(DK_CONV_WINOGRAD_BF16), what = "\(p.H)x\(p.W)"
            let expected = p.forward(mode, weights: rounded), expectedOther = p.forward(mode, weights: other)
            XCTAssertEqual(p.forward(mode, bf16Weights: bits), expected, "\(what): bf16 bits against their float32 values")
            dk_weights_frozen_begin(64 << 20)
            XCTAssertEqual(p.forward(mode, weights: rounded), expected, "\(what): first call, transformed into the kept copy")
            XCTAssertEqual(p.forward(mode, weights: other), expectedOther, "\(what): a second weight tensor of the same shape")
            XCTAssertEqual(p.forward(mode, weights: rounded), expected, "\(what): the first one's copy, reused")
            dk_weights_frozen_end()
        }
    }

    /// The automatic path takes it for the large 3x3 layers in bf16 (and for wide ones at small
    /// sizes, which float32 runs direct), and keeps float32 Winograd in float32.
    func testAutomaticPathTakesWinogradInBFloat16Only() {
        guard dk_bf16_gemm_available() != 0 else {  // testWinogradAgainstDoubleDirectConvolution covers the fallback
            XCTAssertEqual(dk_bf16_native_supported(), 0, "bf16 convolutions run natively, so the bf16 kernel must too")
            return
        }
        let p = Problem(N: 2, C: 128, H: 32, W: 32, K: 128, seed: 6)  // 2048 pixels: Winograd's floor
        let wide = Problem(N: 2, C: 512, H: 8, W: 8, K: 512, seed: 11)  // SD 1.5's 8x8 level, narrower
        XCTAssertEqual(p.forward(Int32(DK_CONV_AUTO)), p.forward(Int32(DK_CONV_WINOGRAD_BF16)))
        XCTAssertEqual(wide.forward(Int32(DK_CONV_AUTO)), wide.forward(Int32(DK_CONV_WINOGRAD_BF16)))
        XCTAssertEqual(dk_set_precision(Int32(DK_PRECISION_F32)), 0)
        XCTAssertLessThan(relativeError(p.forward(Int32(DK_CONV_AUTO)), p.reference), 1e-5)
    }

    /// The 1x1 convolution on the bf16 GEMM kernel, forward and input gradient: pixels across
    /// panels of 64 and a partial last one, odd channel counts (weights converted and zero-padded),
    /// bf16 weights read in place, with and without a bias, against a double product of the
    /// rounded operands (the kernel's only rounding); the automatic path takes it in bf16 only.
    func testOneByOneAgainstRoundedDoubleProduct() {
        let problems = [Problem(N: 2, C: 40, H: 9, W: 15, K: 70, R: 1, seed: 12),
                        Problem(N: 3, C: 33, H: 8, W: 8, K: 13, R: 1, seed: 13),
                        Problem(N: 1, C: 1, H: 1, W: 1, K: 1, R: 1, seed: 14)]
        guard dk_bf16_gemm_available() != 0 else {  // the mode is oneDNN's then
            for p in problems {
                XCTAssertLessThan(relativeError(p.forward(Int32(DK_CONV_GEMM_1X1_BF16)), p.reference), 1e-5, "\(p.C)")
            }
            return
        }
        for p in problems {
            let what = "N \(p.N) C \(p.C) \(p.H)x\(p.W) K \(p.K)"
            let exact = Problem(rounding: p, rounded)
            let got = p.forward(Int32(DK_CONV_GEMM_1X1_BF16))
            // float32 sums of at most 40 bf16 products: 1e-6 of the output scale.
            XCTAssertLessThan(relativeError(got, exact.reference), 1e-5, what)
            XCTAssertGreaterThan(relativeError(got, p.reference), 1e-5, "\(what): the operands should round to bf16")
            XCTAssertEqual(p.forward(Int32(DK_CONV_AUTO)), got, "\(what): the automatic path")
            let unbiased = exact.reference.enumerated().map { $0.element - Double(p.b[($0.offset / (p.H * p.W)) % p.K]) }
            XCTAssertLessThan(relativeError(p.forward(Int32(DK_CONV_GEMM_1X1_BF16), bias: false), unbiased), 1e-5, what)
            let bits = p.w.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) }  // truncated: exact bf16 values
            let truncated = bits.map { Float(bitPattern: UInt32($0) << 16) }
            XCTAssertEqual(p.forward(Int32(DK_CONV_GEMM_1X1_BF16), bf16Weights: bits),
                           p.forward(Int32(DK_CONV_GEMM_1X1_BF16), weights: truncated), "\(what): bf16 weights in place")
            // The input gradient, dx [c, i] = sum over k of w [k, c] dy [k, i], the same product transposed.
            var rng = TestRandom(seed: UInt64(p.K))
            let dy = rng.floats(p.N * p.K * p.H * p.W), (rw, rdy) = (rounded(p.w), rounded(dy))
            var expected = [Double](repeating: 0, count: p.x.count)
            let hw = p.H * p.W
            for n in 0..<p.N { for c in 0..<p.C { for i in 0..<hw {
                var acc = 0.0
                for k in 0..<p.K { acc += Double(rw[k * p.C + c]) * Double(rdy[(n * p.K + k) * hw + i]) }
                expected[(n * p.C + c) * hw + i] = acc
            } } }
            for mode in [DK_CONV_GEMM_1X1_BF16, DK_CONV_AUTO] {
                var dx = [Float](repeating: .nan, count: p.x.count)
                dk_conv_set_mode(Int32(mode))
                XCTAssertEqual(dk_conv2d_backward_data(dy, p.w, &dx, Int64(p.N), Int64(p.C), Int64(p.H), Int64(p.W), Int64(p.K),
                                                       1, 1, 1, 0, Int64(p.H), Int64(p.W)), 0)
                dk_conv_set_mode(Int32(DK_CONV_AUTO))
                XCTAssertLessThan(relativeError(dx, expected), 1e-5, "\(what): input gradient, mode \(mode)")
            }
        }
        XCTAssertEqual(dk_set_precision(Int32(DK_PRECISION_F32)), 0)
        let p = problems[0]
        XCTAssertLessThan(relativeError(p.forward(Int32(DK_CONV_AUTO)), p.reference), 1e-6, "float32: oneDNN's, unrounded")
    }
    /// The 3x3 weight gradient (stride 1, padding 1) against a double sum over every pixel of the
    /// rounded operands: one partial 64-channel panel and channels past a multiple of 16, an odd
    /// pixel count (pairs across images), several 1024-pixel chunks split into parts summed apart,
    /// 4x4 images; the bias gradient summed from dy itself. The automatic path takes it in bf16.
    func testThreeByThreeWeightGradientAgainstRoundedDoubleSum() {
        let problems = [Problem(N: 3, C: 70, H: 5, W: 7, K: 24, seed: 15),
                        Problem(N: 2, C: 16, H: 24, W: 24, K: 16, seed: 16),
                        Problem(N: 16, C: 20, H: 4, W: 4, K: 33, seed: 17)]
        for p in problems {
            let what = "N \(p.N) C \(p.C) \(p.H)x\(p.W) K \(p.K)"
            var rng = TestRandom(seed: UInt64(p.C))
            let dy = rng.floats(p.N * p.K * p.H * p.W)
            let (x, g) = dk_bf16_gemm_available() != 0 ? (rounded(p.x), rounded(dy)) : (p.x, dy)
            var expected = [Double](repeating: 0, count: p.w.count), bias = [Double](repeating: 0, count: p.K)
            for n in 0..<p.N { for k in 0..<p.K { for h in 0..<p.H { for w in 0..<p.W {
                let d = Double(g[((n * p.K + k) * p.H + h) * p.W + w])
                bias[k] += Double(dy[((n * p.K + k) * p.H + h) * p.W + w])
                for c in 0..<p.C { for r in 0..<3 { for s in 0..<3 {
                    let ih = h - 1 + r, iw = w - 1 + s
                    if ih < 0 || ih >= p.H || iw < 0 || iw >= p.W { continue }
                    expected[((k * p.C + c) * 3 + r) * 3 + s] += d * Double(x[((n * p.C + c) * p.H + ih) * p.W + iw])
                } } }
            } } } }
            for mode in [DK_CONV_GRAD_3X3_BF16, DK_CONV_AUTO] {
                var dw = [Float](repeating: .nan, count: p.w.count), db = [Float](repeating: .nan, count: p.K)
                dk_conv_set_mode(Int32(mode))
                XCTAssertEqual(dk_conv2d_backward_weights(p.x, dy, &dw, &db, Int64(p.N), Int64(p.C), Int64(p.H), Int64(p.W),
                                                          Int64(p.K), 3, 3, 1, 1, Int64(p.H), Int64(p.W)), 0)
                dk_conv_set_mode(Int32(DK_CONV_AUTO))
                // float32 sums of up to 5184 products: 1e-6 of the gradient's scale
                XCTAssertLessThan(relativeError(dw, expected), 1e-5, "\(what): mode \(mode)")
                XCTAssertLessThan(relativeError(db, bias), 1e-5, "\(what): bias gradient, mode \(mode)")
            }
        }
    }

    /// oneDNN's direct bf16 convolution on blocked layouts, forward and input gradient, whose
    /// activations Diffuse moves into and out of oneDNN's layouts itself (conv_layouts.c: nhwc,
    /// and 16-channel blocks with zero padding channels): channel counts off multiples of 16,
    /// planes off multiples of 16 pixels, against double sums of the rounded operands.
    func testBlockedLayoutsAgainstRoundedDoubleSums() {
        let native = dk_bf16_gemm_available() != 0  // else float32 throughout, unrounded
        let problems = [Problem(N: 3, C: 24, H: 5, W: 7, K: 20, seed: 18),
                        Problem(N: 2, C: 70, H: 6, W: 6, K: 33, seed: 19),
                        Problem(N: 4, C: 64, H: 16, W: 16, K: 48, seed: 20)]
        for p in problems {
            let what = "N \(p.N) C \(p.C) \(p.H)x\(p.W) K \(p.K)"
            let exact = native ? Problem(rounding: p, rounded) : p
            // float32 sums of up to 630 bf16 products: 1e-6 of the output scale
            XCTAssertLessThan(relativeError(p.forward(Int32(DK_CONV_BLOCKED)), exact.reference), 1e-5, "\(what): forward")
            var rng = TestRandom(seed: UInt64(p.K))
            let dy = rng.floats(p.N * p.K * p.H * p.W), (rw, rdy) = native ? (rounded(p.w), rounded(dy)) : (p.w, dy)
            var expected = [Double](repeating: 0, count: p.x.count)
            for n in 0..<p.N { for c in 0..<p.C { for h in 0..<p.H { for w in 0..<p.W {
                var acc = 0.0
                for k in 0..<p.K { for r in 0..<3 { for s in 0..<3 {
                    let oh = h + 1 - r, ow = w + 1 - s
                    if oh < 0 || oh >= p.H || ow < 0 || ow >= p.W { continue }
                    acc += Double(rdy[((n * p.K + k) * p.H + oh) * p.W + ow]) * Double(rw[((k * p.C + c) * 3 + r) * 3 + s])
                } } }
                expected[((n * p.C + c) * p.H + h) * p.W + w] = acc
            } } } }
            var dx = [Float](repeating: .nan, count: p.x.count)
            dk_conv_set_mode(Int32(DK_CONV_BLOCKED))
            XCTAssertEqual(dk_conv2d_backward_data(dy, p.w, &dx, Int64(p.N), Int64(p.C), Int64(p.H), Int64(p.W), Int64(p.K),
                                                   3, 3, 1, 1, Int64(p.H), Int64(p.W)), 0)
            dk_conv_set_mode(Int32(DK_CONV_AUTO))
            XCTAssertLessThan(relativeError(dx, expected), 1e-5, "\(what): input gradient")
        }
    }

    func rounded(_ v: [Float]) -> [Float] {
        var out = v
        XCTAssertEqual(dk_round_bf16(v, &out, Int64(v.count)), 0)
        return out
    }
}

extension BFloat16ConvolutionTests.Problem {
    /// p with its input and weights passed through `round` (the bias stays).
    init(rounding p: Self, _ round: ([Float]) -> [Float]) {
        (N, C, H, W, K, R, b) = (p.N, p.C, p.H, p.W, p.K, p.R, p.b)
        (x, w) = (round(p.x), round(p.w))
    }
}
