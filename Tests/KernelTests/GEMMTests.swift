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

    func testRejectsBadLeadingDimension() {
        let a = [Float](repeating: 1, count: 16), b = a
        var c = a
        XCTAssertNotEqual(dk_sgemm(0, 0, 4, 4, 4, 1, a, 3, b, 4, 0, &c, 4), 0)
    }
}
