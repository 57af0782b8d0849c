// dk_sgemm (oneDNN) in every transpose combination, with alpha, beta and padded leading
// dimensions, against a double-precision product; dk_matmul (the bf16 GEMM's primitive) likewise.
import CKernels
import XCTest

final class GEMMTests: XCTestCase {
    func testAllTransposesAgainstDoubleProduct() {
        let M = 67, N = 45, K = 129, pad = 3
        let alpha: Float = 0.75, beta: Float = 0.5
        for transA in [false, true] { for transB in [false, true] {
            var rng = TestRandom(seed: 5)
            // Stored as op(A) [M, K] or A^T [K, M], op(B) [K, N] or B^T [N, K], each row padded.
            let lda = (transA ? M : K) + pad, ldb = (transB ? K : N) + pad, ldc = N + pad
            let a = rng.floats((transA ? K : M) * lda), b = rng.floats((transB ? N : K) * ldb)
            let c0 = rng.floats(M * ldc)
            var c = c0
            XCTAssertEqual(dk_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int64(M), Int64(N), Int64(K), alpha, a, Int64(lda),
                                    b, Int64(ldb), beta, &c, Int64(ldc)), 0)
            var expected = [Double](repeating: 0, count: M * N), got = [Float](repeating: 0, count: M * N)
            for i in 0..<M { for j in 0..<N {
                var sum = 0.0
                for k in 0..<K {
                    let x = transA ? a[k * lda + i] : a[i * lda + k], y = transB ? b[j * ldb + k] : b[k * ldb + j]
                    sum += Double(x) * Double(y)
                }
                expected[i * N + j] = Double(alpha) * sum + Double(beta) * Double(c0[i * ldc + j])
                got[i * N + j] = c[i * ldc + j]
            } }
            XCTAssertLessThan(relativeError(got, expected), 1e-5, "transA \(transA), transB \(transB)")
            // The padding between rows is never written.
            for i in 0..<M { for j in N..<ldc { XCTAssertEqual(c[i * ldc + j], c0[i * ldc + j]) } }
        } }
    }

    /// dk_matmul's float32 build runs on any CPU: its strides, transposes, alpha and beta are those
    /// of its bf16 build. The bf16 build is checked where the CPU has it, against rounded operands.
    func testMatmulPrimitiveInEveryTransposeCombination() {
        let M = 37, N = 45, K = 70, pad = 3
        let alpha: Float = 0.75, beta: Float = 0.5
        let native = dk_bf16_native_supported() != 0
        for transA in [false, true] { for transB in [false, true] { for (a1, b1) in [(alpha, beta), (1, 0)] {
            var rng = TestRandom(seed: 6)
            let lda = (transA ? M : K) + pad, ldb = (transB ? K : N) + pad
            let a = rng.floats((transA ? K : M) * lda), b = rng.floats((transB ? N : K) * ldb), c0 = rng.floats(M * N)
            let (ta, tb) = (Int32(transA ? 1 : 0), Int32(transB ? 1 : 0))
            var expected = c0, got = c0
            XCTAssertEqual(dk_sgemm(ta, tb, Int64(M), Int64(N), Int64(K), a1, a, Int64(lda), b, Int64(ldb), b1, &expected, Int64(N)), 0)
            XCTAssertEqual(dk_matmul(ta, tb, Int64(M), Int64(N), Int64(K), a1, a, Int64(lda), b, Int64(ldb), b1, &got, Int64(N), 0), 0)
            XCTAssertLessThan(relativeError(got, expected), 1e-5, "float32 matmul: transA \(transA), transB \(transB), alpha \(a1)")
            got = c0
            let status = dk_matmul(ta, tb, Int64(M), Int64(N), Int64(K), a1, a, Int64(lda), b, Int64(ldb), b1, &got, Int64(N), 1)
            guard native else {
                XCTAssertEqual(status, Int32(DK_ERR_BACKEND), "no bf16 on this CPU: refused, not emulated slowly")
                continue
            }
            XCTAssertEqual(status, 0)
            var ra = a, rb = b
            XCTAssertEqual(dk_round_bf16(a, &ra, Int64(a.count)), 0)
            XCTAssertEqual(dk_round_bf16(b, &rb, Int64(b.count)), 0)
            expected = c0
            XCTAssertEqual(dk_sgemm(ta, tb, Int64(M), Int64(N), Int64(K), a1, ra, Int64(lda), rb, Int64(ldb), b1, &expected, Int64(N)), 0)
            XCTAssertLessThan(relativeError(got, expected), 1e-5, "bf16 matmul: transA \(transA), transB \(transB), alpha \(a1)")
        } } }
    }

    /// In a frozen-weights scope a weight operand's bf16 copy (dk_matmul_weights) is kept: the
    /// same product as a fresh conversion, call after call, and a later change to the weights is
    /// not seen until the scope ends (the promise the caller makes). An operand that is not
    /// marked as a weight is converted afresh on every call.
    func testWeightOperandKeptInFrozenScope() {
        guard dk_bf16_native_supported() != 0 else {
            var y: [Float] = [0]
            XCTAssertEqual(dk_matmul_weights(0, 1, 1, 1, 1, 1, [1], 1, [1], 1, 0, &y, 1, 1, 1), Int32(DK_ERR_BACKEND))
            return
        }
        let M = 9, N = 40, K = 24
        var rng = TestRandom(seed: 11)
        let x = rng.floats(M * K)
        var w = rng.floats(N * K)
        func product(keep: Int32) -> [Float] {
            var y = [Float](repeating: 0, count: M * N)
            XCTAssertEqual(dk_matmul_weights(0, 1, Int64(M), Int64(N), Int64(K), 1, x, Int64(K), w, Int64(K), 0, &y,
                                             Int64(N), 1, keep), 0)
            return y
        }
        let before = product(keep: 1)  // outside a scope: nothing kept
        dk_weights_frozen_begin(1 << 20)
        XCTAssertEqual(product(keep: 1), before, "first call: converted into the kept copy")
        XCTAssertEqual(product(keep: 1), before, "second call: the kept copy")
        for i in w.indices { w[i] = -w[i] }
        let negated = before.map { -$0 }
        XCTAssertEqual(product(keep: 0), negated, "not a weight: converted afresh")
        XCTAssertEqual(product(keep: 1), before, "a weight: its kept copy, made before the change")
        dk_weights_frozen_end()
        XCTAssertEqual(product(keep: 1), negated, "after the scope: converted afresh")
    }

    /// The single-threaded bf16 GEMM of attention: odd K (a zero-padded last pair), N across a
    /// partial 16-column vector and a partial 64-column panel, row tiles with a remainder (the
    /// taller tiles of one- and two-vector widths too), a reduction longer than one pass and
    /// shorter than the packed one, a packed operand wider than N, alpha and row scales, written
    /// or added to C: against a double product of the rounded operands. Where the CPU has no
    /// AVX-512 BF16 the kernel must say so, and attention then never calls it.
    func testBFloat16KernelAgainstRoundedDoubleProduct() {
        guard dk_bf16_gemm_available() != 0 else {
            XCTAssertEqual(dk_bf16_native_supported(), 0, "bf16 products run natively, so the bf16 kernel must too")
            return
        }
        for (M, N, K, trans) in [(13, 37, 41, 0), (7, 70, 301, 1), (1, 5, 2, 0), (20, 16, 1, 1), (9, 150, 20, 1),
                                  (30, 9, 33, 0), (27, 20, 17, 1)] {
            var rng = TestRandom(seed: UInt64(M * 1000 + K))
            // B is packed with 17 more columns and 3 more rows than the product reads.
            let (packedN, packedK) = (N + 17, K + 3)
            let np = Int(dk_bf16_pairs_width(Int64(packedN))), bkp = (packedK + 1) / 2, kp = (K + 1) / 2
            let lda = 2 * kp + 4
            let a = rng.floats(M * K), b = rng.floats(packedK * packedN), scales = rng.floats(M)
            var a16 = [UInt16](repeating: 0xffff, count: M * lda)
            dk_bf16_pack_rows(a, Int64(M), Int64(K), Int64(K), &a16, Int64(lda))
            // B [packedK, packedN] as stored: rows of packedN (trans 0) or its transpose (trans 1).
            let stored = trans == 0 ? b : (0..<(packedN * packedK)).map { i in b[(i % packedK) * packedN + i / packedK] }
            var packed = [UInt16](repeating: 0xffff, count: bkp * np * 2)
            dk_bf16_pack_pairs(stored, Int64(packedK), Int64(packedN), Int64(trans == 0 ? packedN : packedK),
                               Int32(trans), &packed)
            assertHalfProduct(of: a, b, ldb: packedN, M: M, N: N, K: K, scales: scales, initial: rng.floats(M * (N + 3)),
                              "trans \(trans)") { c, rowScales, accumulate in
                dk_bf16_gemm(Int64(M), Int64(N), Int64(kp), a16, Int64(lda), packed, Int64(bkp), 0.5, rowScales, c,
                             Int64(N + 3), accumulate)
            }
        }
    }

    /// The kernel for right operands at most 8 wide: every tile height it takes (24, 12, 6 and
    /// 1-5 rows), an even and an odd count of pairs (the last alone, where the packed operand's
    /// next pair must not count), widths 8 and under, alpha and row scales, written or added to C:
    /// against a double product of the rounded operands.
    func testNarrowBFloat16KernelAgainstRoundedDoubleProduct() {
        guard dk_bf16_gemm_available() != 0 else {
            XCTAssertEqual(dk_bf16_native_supported(), 0, "bf16 products run natively, so the bf16 kernel must too")
            return
        }
        for (M, N, K) in [(24, 8, 64), (41, 8, 77), (12, 5, 9), (6, 1, 2), (5, 7, 256), (1, 8, 1), (47, 3, 30),
                          (26, 6, 5), (28, 8, 13)] {
            var rng = TestRandom(seed: UInt64(M * 1000 + N * 100 + K))
            // B has 5 more rows than the product reads: the packed pairs past KP hold values.
            let packedK = K + 5, ldb = N + 2, kp = (K + 1) / 2, lda = 2 * kp + 2
            let a = rng.floats(M * K), b = rng.floats(packedK * ldb), scales = rng.floats(M)
            var a16 = [UInt16](repeating: 0, count: M * lda)
            dk_bf16_pack_rows(a, Int64(M), Int64(K), Int64(K), &a16, Int64(lda))
            var packed = [UInt16](repeating: 0xffff, count: 32 * Int(dk_bf16_narrow_groups(Int64(packedK))))
            dk_bf16_pack_pairs_narrow(b, Int64(packedK), Int64(N), Int64(ldb), &packed)
            assertHalfProduct(of: a, b, ldb: ldb, M: M, N: N, K: K, scales: scales, initial: rng.floats(M * (N + 3)),
                              "narrow") { c, rowScales, accumulate in
                dk_bf16_gemm_narrow(Int64(M), Int64(N), Int64(kp), a16, Int64(lda), packed, 0.5, rowScales, c,
                                    Int64(N + 3), accumulate)
            }
        }
    }

    /// Runs `product` (C [M, N + 3] = 0.5 · A [M, K] · B [K, N] rounded to bf16, with row scales
    /// or none, written or added) in all four ways and checks C against a double product of the
    /// rounded operands (B's rows ldb apart), to 1e-5 of its largest value, and its 3 last columns
    /// untouched.
    private func assertHalfProduct(of a: [Float], _ b: [Float], ldb: Int, M: Int, N: Int, K: Int, scales: [Float],
                                   initial: [Float], _ label: String,
                                   _ product: (UnsafeMutablePointer<Float>, [Float]?, Int32) -> Void) {
        let (ra, rb) = (rounded(a), rounded(b))
        for rowScaled in [false, true] { for accumulate in [false, true] {
            var c = accumulate ? initial : [Float](repeating: .nan, count: M * (N + 3))
            for i in 0..<M { for j in N..<(N + 3) { c[i * (N + 3) + j] = .nan } }
            c.withUnsafeMutableBufferPointer { product($0.baseAddress!, rowScaled ? scales : nil, accumulate ? 1 : 0) }
            var expected = [Double](repeating: 0, count: M * N), got = [Float](repeating: 0, count: M * N)
            for i in 0..<M { for j in 0..<N {
                var sum = 0.0
                for k in 0..<K { sum += Double(ra[i * K + k]) * Double(rb[k * ldb + j]) }
                expected[i * N + j] = 0.5 * sum * (rowScaled ? Double(scales[i]) : 1)
                    + (accumulate ? Double(initial[i * (N + 3) + j]) : 0)
                got[i * N + j] = c[i * (N + 3) + j]
            } }
            XCTAssertLessThan(relativeError(got, expected), 1e-5,
                              "M \(M), N \(N), K \(K), \(label), row scales \(rowScaled), accumulate \(accumulate)")
            for i in 0..<M { for j in N..<(N + 3) { XCTAssertTrue(c[i * (N + 3) + j].isNaN, "wrote past N") } }
        } }
    }

    private func rounded(_ values: [Float]) -> [Float] {
        var out = values
        XCTAssertEqual(dk_round_bf16(values, &out, Int64(values.count)), 0)
        return out
    }

    func testRejectsBadLeadingDimension() {
        let a = [Float](repeating: 1, count: 16), b = a
        var c = a
        XCTAssertNotEqual(dk_sgemm(0, 0, 4, 4, 4, 1, a, 3, b, 4, 0, &c, 4), 0)
    }
}
