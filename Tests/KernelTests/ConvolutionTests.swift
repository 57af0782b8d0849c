// Convolution kernels (oneDNN paths and the 1x1 sgemm path) against a naive double-precision reference.
import CKernels
import XCTest

final class ConvolutionTests: XCTestCase {
    struct Shape {
        let N, C, H, W, K, R, stride, pad: Int
        var OH: Int { (H + 2 * pad - R) / stride + 1 }
        var OW: Int { (W + 2 * pad - R) / stride + 1 }
    }

    // y [N, K, OH, OW] = conv(x [N, C, H, W], w [K, C, R, R]) + b
    func reference(_ s: Shape, _ x: [Float], _ w: [Float], _ b: [Float]?) -> [Double] {
        var y = [Double](repeating: 0, count: s.N * s.K * s.OH * s.OW)
        for n in 0..<s.N { for k in 0..<s.K { for oh in 0..<s.OH { for ow in 0..<s.OW {
            var acc = b.map { Double($0[k]) } ?? 0
            for c in 0..<s.C { for r in 0..<s.R { for t in 0..<s.R {
                let h = oh * s.stride - s.pad + r, ww = ow * s.stride - s.pad + t
                if h < 0 || h >= s.H || ww < 0 || ww >= s.W { continue }
                acc += Double(x[((n * s.C + c) * s.H + h) * s.W + ww]) * Double(w[((k * s.C + c) * s.R + r) * s.R + t])
            } } }
            y[((n * s.K + k) * s.OH + oh) * s.OW + ow] = acc
        } } } }
        return y
    }

    // Adjoints of the reference: dx, dw, db given dy.
    func referenceBackward(_ s: Shape, _ x: [Float], _ w: [Float], _ dy: [Float]) -> ([Double], [Double], [Double]) {
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        var db = [Double](repeating: 0, count: s.K)
        for n in 0..<s.N { for k in 0..<s.K { for oh in 0..<s.OH { for ow in 0..<s.OW {
            let g = Double(dy[((n * s.K + k) * s.OH + oh) * s.OW + ow])
            db[k] += g
            for c in 0..<s.C { for r in 0..<s.R { for t in 0..<s.R {
                let h = oh * s.stride - s.pad + r, ww = ow * s.stride - s.pad + t
                if h < 0 || h >= s.H || ww < 0 || ww >= s.W { continue }
                let xi = ((n * s.C + c) * s.H + h) * s.W + ww, wi = ((k * s.C + c) * s.R + r) * s.R + t
                dx[xi] += g * Double(w[wi])
                dw[wi] += g * Double(x[xi])
            } } }
        } } } }
        return (dx, dw, db)
    }

    func check(_ s: Shape, mode: Int32, file: StaticString = #filePath, line: UInt = #line) {
        var rng = TestRandom(seed: UInt64(s.C * 131 + s.K * 7 + s.R + s.stride * 1000))
        let x = rng.floats(s.N * s.C * s.H * s.W), w = rng.floats(s.K * s.C * s.R * s.R, scale: 0.2)
        let b = rng.floats(s.K), dy = rng.floats(s.N * s.K * s.OH * s.OW)
        var y = [Float](repeating: 0, count: dy.count), dx = [Float](repeating: 0, count: x.count)
        var dw = [Float](repeating: 0, count: w.count), db = [Float](repeating: 0, count: s.K)
        let dims = [s.N, s.C, s.H, s.W, s.K, s.R, s.R, s.stride, s.pad, s.OH, s.OW].map(Int64.init)
        dk_conv_set_mode(mode)
        defer { dk_conv_set_mode(Int32(DK_CONV_AUTO)) }
        XCTAssertEqual(dk_conv2d_forward(x, w, b, &y, dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], dims[6],
                                         dims[7], dims[8], dims[9], dims[10]), 0, file: file, line: line)
        XCTAssertEqual(dk_conv2d_backward_data(dy, w, &dx, dims[0], dims[1], dims[2], dims[3], dims[4], dims[5],
                                               dims[6], dims[7], dims[8], dims[9], dims[10]), 0, file: file, line: line)
        XCTAssertEqual(dk_conv2d_backward_weights(x, dy, &dw, &db, dims[0], dims[1], dims[2], dims[3], dims[4],
                                                  dims[5], dims[6], dims[7], dims[8], dims[9], dims[10]), 0,
                       file: file, line: line)
        let (rdx, rdw, rdb) = referenceBackward(s, x, w, dy)
        let what = "\(s) mode \(mode)"
        // float32 sums of up to C*R*R (~600) products: 1e-5 of the output scale.
        XCTAssertLessThan(relativeError(y, reference(s, x, w, b)), 1e-5, "forward \(what)", file: file, line: line)
        XCTAssertLessThan(relativeError(dx, rdx), 1e-5, "backward data \(what)", file: file, line: line)
        XCTAssertLessThan(relativeError(dw, rdw), 1e-5, "backward weights \(what)", file: file, line: line)
        XCTAssertLessThan(relativeError(db, rdb), 1e-5, "bias gradient \(what)", file: file, line: line)
    }

    let shapes = [
        Shape(N: 2, C: 5, H: 7, W: 7, K: 6, R: 3, stride: 1, pad: 1),
        Shape(N: 2, C: 17, H: 7, W: 7, K: 19, R: 3, stride: 2, pad: 1),
        Shape(N: 2, C: 32, H: 7, W: 9, K: 48, R: 3, stride: 1, pad: 1),
        Shape(N: 2, C: 64, H: 7, W: 7, K: 64, R: 3, stride: 2, pad: 1),
        Shape(N: 2, C: 24, H: 7, W: 7, K: 40, R: 1, stride: 1, pad: 0),
        Shape(N: 2, C: 64, H: 7, W: 7, K: 33, R: 1, stride: 1, pad: 0),
        Shape(N: 2, C: 16, H: 7, W: 7, K: 16, R: 1, stride: 2, pad: 0),
    ]

    func testAutomaticPath() { for s in shapes { check(s, mode: Int32(DK_CONV_AUTO)) } }
    func testPlainLayouts() { for s in shapes { check(s, mode: Int32(DK_CONV_PLAIN)) } }
    func testBlockedLayouts() { for s in shapes { check(s, mode: Int32(DK_CONV_BLOCKED)) } }
    func testSgemmOneByOne() { for s in shapes { check(s, mode: Int32(DK_CONV_GEMM_1X1)) } }

    // Winograd F(4x4, 3x3), forced (its gradients run direct), and as the automatic choice at a
    // size where it is taken, against direct on blocked layouts.
    func testWinogradForward() {
        check(Shape(N: 1, C: 128, H: 16, W: 20, K: 128, R: 3, stride: 1, pad: 1), mode: Int32(DK_CONV_WINOGRAD))
        // Channel counts off oneDNN's blocks, which the weight transform zero-pads; small sizes, where
        // oneDNN picks F(2x2, 3x3) and its own weight reorder.
        check(Shape(N: 2, C: 200, H: 32, W: 24, K: 72, R: 3, stride: 1, pad: 1), mode: Int32(DK_CONV_WINOGRAD))
        check(Shape(N: 2, C: 20, H: 9, W: 11, K: 36, R: 3, stride: 1, pad: 1), mode: Int32(DK_CONV_WINOGRAD))
        let (c, h) = (128, 48)  // 2304 pixels: over the automatic path's 2048-pixel Winograd floor
        var rng = TestRandom(seed: 21)
        let x = rng.floats(c * h * h), w = rng.floats(c * c * 9, scale: 0.05), b = rng.floats(c)
        func forward(_ mode: Int32) -> [Float] {
            var y = [Float](repeating: 0, count: c * h * h)
            dk_conv_set_mode(mode)
            defer { dk_conv_set_mode(Int32(DK_CONV_AUTO)) }
            XCTAssertEqual(dk_conv2d_forward(x, w, b, &y, 1, Int64(c), Int64(h), Int64(h), Int64(c), 3, 3, 1, 1,
                                             Int64(h), Int64(h)), 0)
            return y
        }
        XCTAssertLessThan(relativeError(forward(Int32(DK_CONV_AUTO)), forward(Int32(DK_CONV_BLOCKED))), 1e-5)
    }

    // Large Winograd convolutions run as slices of output channels and bands of output rows, each
    // its own primitive on strided views of the tensors: they must agree with one direct call.
    func testWinogradSlicesAndBands() {
        func compare(N: Int, C: Int, H: Int, W: Int, K: Int, bias: Bool, _ what: String) {
            var rng = TestRandom(seed: UInt64(C + K + H))
            let x = rng.floats(N * C * H * W), w = rng.floats(K * C * 9, scale: 0.05), b = rng.floats(K)
            func forward(_ mode: Int32) -> [Float] {
                var y = [Float](repeating: .nan, count: N * K * H * W)
                dk_conv_set_mode(mode)
                defer { dk_conv_set_mode(Int32(DK_CONV_AUTO)) }
                XCTAssertEqual(dk_conv2d_forward(x, w, bias ? b : nil, &y, Int64(N), Int64(C), Int64(H), Int64(W),
                                                 Int64(K), 3, 3, 1, 1, Int64(H), Int64(W)), 0, what)
                return y
            }
            let winograd = forward(Int32(DK_CONV_WINOGRAD)), direct = forward(Int32(DK_CONV_BLOCKED))
            XCTAssertFalse(winograd.contains { $0.isNaN }, "\(what): every output written")
            XCTAssertLessThan(relativeError(winograd, direct), 1e-5, what)
        }
        // 520 x 512 weights: over the slice bound, so two slices of 272 and 248 channels.
        compare(N: 2, C: 512, H: 12, W: 20, K: 520, bias: true, "channel slices")
        // 128 channels at 378 x 366: over the band bound, so bands of rows, the last one short.
        compare(N: 1, C: 128, H: 378, W: 366, K: 128, bias: false, "row bands")
    }

    // With weights frozen, each weight tensor's reordered copy is reused: results match unfrozen
    // calls, two weight tensors of one shape stay apart, and the copies go when the scope ends.
    func testFrozenWeights() {
        let (N, C, H, K) = (2, 64, 8, 96)
        var rng = TestRandom(seed: 33)
        let x = rng.floats(N * C * H * H), b = rng.floats(K)
        var w1 = rng.floats(K * C * 9)
        let w2 = rng.floats(K * C * 9)
        func forward(_ w: [Float]) -> [Float] {
            var y = [Float](repeating: 0, count: N * K * H * H)
            XCTAssertEqual(w.withUnsafeBufferPointer { wp in
                dk_conv2d_forward(x, wp.baseAddress, b, &y, Int64(N), Int64(C), Int64(H), Int64(H), Int64(K), 3, 3, 1, 1,
                                  Int64(H), Int64(H))
            }, 0)
            return y
        }
        let expected1 = forward(w1), expected2 = forward(w2)
        dk_weights_frozen_begin(64 << 20)
        XCTAssertEqual(forward(w1), expected1)
        XCTAssertEqual(forward(w2), expected2, "a second weight tensor of the same shape")
        XCTAssertEqual(forward(w1), expected1, "the first one's copy, reused")
        dk_weights_frozen_begin(0)  // nested: the outer budget holds
        XCTAssertEqual(forward(w2), expected2)
        dk_weights_frozen_end()
        dk_weights_frozen_end()
        // The same buffer with new values after the scope: read afresh (conv(-w) + b = 2b - (conv(w) + b)).
        for i in w1.indices { w1[i] = -w1[i] }
        let negated = expected1.indices.map { 2 * b[($0 / (H * H)) % K] - expected1[$0] }
        XCTAssertLessThan(relativeError(forward(w1), negated), 1e-5)
    }

    func testForwardWithoutBias() {
        let s = Shape(N: 2, C: 8, H: 7, W: 7, K: 16, R: 3, stride: 1, pad: 1)
        var rng = TestRandom(seed: 9)
        let x = rng.floats(s.N * s.C * s.H * s.W), w = rng.floats(s.K * s.C * 9)
        var y = [Float](repeating: 0, count: s.N * s.K * s.OH * s.OW)
        XCTAssertEqual(dk_conv2d_forward(x, w, nil, &y, 2, 8, 7, 7, 16, 3, 3, 1, 1, 7, 7), 0)
        XCTAssertLessThan(relativeError(y, reference(s, x, w, nil)), 1e-5)
    }

    // bf16 forward convolutions convert their weights with bf16_weights.c instead of oneDNN's
    // reorder; the bytes must be the same, padding included (K or C not a multiple of the block).
    func testBF16WeightConversionMatchesOneDNN() {
        let cases: [(K: Int, C: Int, R: Int, S: Int, block: Int32)] = [
            (320, 320, 3, 3, 32), (40, 24, 3, 3, 16), (33, 17, 3, 3, 32), (70, 300, 1, 1, 64),
            (8, 5, 5, 5, 16), (16, 40, 3, 1, 64), (64, 1, 3, 3, 32),
        ]
        for (K, C, R, S, block) in cases {
            var rng = TestRandom(seed: UInt64(K * 1000 + C))
            var w = rng.floats(K * C * R * S, scale: 3)
            // Halfway cases round to even; infinities and signed zeros pass through.
            let special: [Float] = [1 + 1.0 / 256, 1 + 3.0 / 256, -(1 + 1.0 / 256), .infinity, -.infinity, -0.0, 65504]
            for (i, v) in special.enumerated() where i < w.count { w[i * 7 % w.count] = v }
            let mismatches = dk_bf16_weights_mismatches(w, Int64(K), Int64(C), Int64(R), Int64(S), block)
            XCTAssertEqual(mismatches, 0, "K \(K) C \(C) \(R)x\(S), block \(block)")
        }
        XCTAssertEqual(dk_bf16_weights_mismatches([1], 1, 1, 1, 1, 8), Int64(DK_ERR_ARG), "no such layout")
        XCTAssertEqual(dk_bf16_weights_mismatches([1], 0, 1, 1, 1, 16), Int64(DK_ERR_SHAPE))
    }

    func testBadSizesReturnErrors() {
        var y = [Float](repeating: 0, count: 64)
        let x = [Float](repeating: 0, count: 64), w = [Float](repeating: 0, count: 64)
        // OH disagrees with (H + 2 pad - R) / stride + 1.
        XCTAssertEqual(dk_conv2d_forward(x, w, nil, &y, 1, 1, 4, 4, 1, 3, 3, 1, 1, 3, 4), Int32(DK_ERR_SHAPE))
        XCTAssertEqual(dk_conv2d_forward(x, w, nil, &y, 1, 0, 4, 4, 1, 3, 3, 1, 1, 4, 4), Int32(DK_ERR_SHAPE))
        XCTAssertEqual(dk_conv2d_backward_data(x, w, &y, 1, 1, 4, 4, 1, 3, 3, 0, 1, 4, 4), Int32(DK_ERR_SHAPE))
        XCTAssertEqual(dk_conv2d_backward_weights(x, x, &y, nil, -1, 1, 4, 4, 1, 3, 3, 1, 1, 4, 4), Int32(DK_ERR_SHAPE))
        XCTAssertEqual(dk_conv2d_forward(nil, w, nil, &y, 1, 1, 4, 4, 1, 3, 3, 1, 1, 4, 4), Int32(DK_ERR_ARG))
    }
}
