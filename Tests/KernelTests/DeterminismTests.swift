// Kernels with reductions give bit-identical results on 1 and 2 threads.
import CKernels
import XCTest

final class DeterminismTests: XCTestCase {
    /// Runs body once with 1 thread and once with 2, returning both results.
    func onOneAndTwoThreads(_ body: () -> [Float]) -> ([Float], [Float]) {
        let saved = dk_get_threads()
        defer { dk_set_threads(saved) }
        dk_set_threads(1)
        let one = body()
        dk_set_threads(2)
        return (one, body())
    }

    func testGroupNormBackward() {
        let N = 4, C = 64, HW = 256, G = 32
        var rng = TestRandom(seed: 11)
        let x = rng.floats(N * C * HW), dy = rng.floats(N * C * HW), gamma = rng.floats(C), beta = rng.floats(C)
        let (a, b) = onOneAndTwoThreads {
            var y = x, mean = [Float](repeating: 0, count: N * G), rstd = mean, dx = x, dg = gamma, db = beta
            XCTAssertEqual(dk_group_norm_forward(x, gamma, beta, &y, &mean, &rstd, 4, 64, 256, 32, 1e-5, 1), 0)
            XCTAssertEqual(dk_group_norm_backward(dy, x, gamma, beta, mean, rstd, &dx, &dg, &db, 4, 64, 256, 32, 1), 0)
            return y + dx + dg + db
        }
        XCTAssertEqual(a, b)
    }

    func testLayerNormBackward() {
        let rows = 1000, D = 96
        var rng = TestRandom(seed: 12)
        let x = rng.floats(rows * D), dy = rng.floats(rows * D), g = rng.floats(D), b = rng.floats(D)
        let (one, two) = onOneAndTwoThreads {
            var y = x, mean = [Float](repeating: 0, count: rows), rstd = mean, dx = x, dg = g, db = b
            XCTAssertEqual(dk_layer_norm_forward(x, g, b, &y, &mean, &rstd, Int64(rows), Int64(D), 1e-5), 0)
            XCTAssertEqual(dk_layer_norm_backward(dy, x, g, mean, rstd, &dx, &dg, &db, Int64(rows), Int64(D)), 0)
            return y + dx + dg + db
        }
        XCTAssertEqual(one, two)
    }

    func testAttention() {
        // In every precision this CPU runs (native bf16 has a backward of its own).
        let saved = dk_get_precision()
        defer { dk_set_precision(saved) }
        var precisions = [Int32(DK_PRECISION_F32), Int32(DK_PRECISION_BF16_EMULATED)]
        if dk_bf16_native_supported() != 0 { precisions.append(Int32(DK_PRECISION_BF16)) }
        for precision in precisions {
            XCTAssertEqual(dk_set_precision(precision), 0)
            attentionOnOneAndTwoThreads(precision: precision)
        }
    }

    func attentionOnOneAndTwoThreads(precision: Int32) {
        // B = 1 and B = 3 take the per-group partial path; B = 8 accumulates per batch entry.
        for (B, L, causal) in [(1, 300, 1), (3, 130, 0), (8, 70, 1)] as [(Int, Int, Int32)] {
            let D = 16
            var rng = TestRandom(seed: UInt64(B * L))
            let q = rng.floats(B * L * D), k = rng.floats(B * L * D), v = rng.floats(B * L * D)
            let dout = rng.floats(B * L * D)
            let (one, two) = onOneAndTwoThreads {
                var out = q, lse = [Float](repeating: 0, count: B * L), dq = q, dk = k, dv = v
                let b = Int64(B), l = Int64(L)
                XCTAssertEqual(dk_attention_forward(q, k, v, &out, b, l, l, 16, 16, 0.25, causal, &lse), 0)
                XCTAssertEqual(dk_attention_backward(q, k, v, out, dout, lse, &dq, &dk, &dv, b, l, l, 16, 16, 0.25, causal), 0)
                return out + lse + dq + dk + dv
            }
            XCTAssertEqual(one, two, "B \(B) L \(L), precision \(precision)")
        }
    }

    func testConvolutionForward() {
        var rng = TestRandom(seed: 13)
        let x = rng.floats(2 * 32 * 16 * 16), w = rng.floats(48 * 32 * 9), bias = rng.floats(48)
        let (one, two) = onOneAndTwoThreads {
            var y = [Float](repeating: 0, count: 2 * 48 * 16 * 16)
            XCTAssertEqual(dk_conv2d_forward(x, w, bias, &y, 2, 32, 16, 16, 48, 3, 3, 1, 1, 16, 16), 0)
            return y
        }
        XCTAssertEqual(one, two)
    }
}
