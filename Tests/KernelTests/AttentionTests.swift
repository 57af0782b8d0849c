// Chunked attention against a double-precision reference; backward by finite differences.
import CKernels
import Foundation
import XCTest

final class AttentionTests: XCTestCase {
    struct Shape { let B, Lq, Lk, D, Dv: Int; let causal: Bool }

    // out [B, Lq, Dv] = softmax(scale q k^T (masked)) v, in double precision.
    func attention(_ s: Shape, _ q: [Double], _ k: [Double], _ v: [Double], scale: Double) -> [Double] {
        var out = [Double](repeating: 0, count: s.B * s.Lq * s.Dv)
        var p = [Double](repeating: 0, count: s.Lk)
        for b in 0..<s.B { for i in 0..<s.Lq {
            let visible = s.causal ? min(s.Lk, i + 1) : s.Lk
            var m = -Double.infinity
            for j in 0..<visible {
                var d = 0.0
                for e in 0..<s.D { d += q[(b * s.Lq + i) * s.D + e] * k[(b * s.Lk + j) * s.D + e] }
                p[j] = d * scale
                m = max(m, p[j])
            }
            var sum = 0.0
            for j in 0..<visible { p[j] = exp(p[j] - m); sum += p[j] }
            for j in 0..<visible { for e in 0..<s.Dv {
                out[(b * s.Lq + i) * s.Dv + e] += p[j] / sum * v[(b * s.Lk + j) * s.Dv + e]
            } }
        } }
        return out
    }

    func check(_ s: Shape, gradients: Bool) {
        var rng = TestRandom(seed: UInt64(s.Lq * 100 + s.Lk + (s.causal ? 7 : 0)))
        let q = rng.floats(s.B * s.Lq * s.D, scale: 2), k = rng.floats(s.B * s.Lk * s.D, scale: 2)
        let v = rng.floats(s.B * s.Lk * s.Dv), dout = rng.floats(s.B * s.Lq * s.Dv)
        let scale = 1 / Float(s.D).squareRoot()
        var out = [Float](repeating: 0, count: s.B * s.Lq * s.Dv), lse = [Float](repeating: 0, count: s.B * s.Lq)
        let what = "\(s)"
        XCTAssertEqual(dk_attention_forward(q, k, v, &out, Int64(s.B), Int64(s.Lq), Int64(s.Lk), Int64(s.D),
                                            Int64(s.Dv), scale, s.causal ? 1 : 0, &lse), 0)
        let qd = q.doubles, kd = k.doubles, vd = v.doubles, sc = Double(scale)
        // Outputs are averages of O(1) values: 2e-6.
        XCTAssertLessThan(relativeError(out, attention(s, qd, kd, vd, scale: sc)), 2e-6, "forward \(what)")
        guard gradients else { return }
        var dq = q, dk = k, dv = v
        XCTAssertEqual(dk_attention_backward(q, k, v, out, dout, lse, &dq, &dk, &dv, Int64(s.B), Int64(s.Lq),
                                             Int64(s.Lk), Int64(s.D), Int64(s.Dv), scale, s.causal ? 1 : 0), 0)
        let loss = { (q: [Double], k: [Double], v: [Double]) in dot(self.attention(s, q, k, v, scale: sc), dout) }
        // float32 gradients against central differences: 2e-5 of the gradient scale.
        XCTAssertLessThan(relativeError(dq, numericGradient(qd) { loss($0, kd, vd) }), 2e-5, "dq \(what)")
        XCTAssertLessThan(relativeError(dk, numericGradient(kd) { loss(qd, $0, vd) }), 2e-5, "dk \(what)")
        XCTAssertLessThan(relativeError(dv, numericGradient(vd) { loss(qd, kd, $0) }), 2e-5, "dv \(what)")
    }

    // Lq = 70 and 150 are not multiples of the 64-query chunk.
    func testForwardAndBackward() {
        check(Shape(B: 2, Lq: 70, Lk: 33, D: 8, Dv: 5, causal: false), gradients: true)
        check(Shape(B: 1, Lq: 70, Lk: 70, D: 4, Dv: 6, causal: true), gradients: true)
        check(Shape(B: 3, Lq: 9, Lk: 77, D: 16, Dv: 16, causal: false), gradients: true)
    }

    func testLongerSequencesForward() {
        check(Shape(B: 2, Lq: 150, Lk: 150, D: 32, Dv: 32, causal: true), gradients: false)
        check(Shape(B: 1, Lq: 150, Lk: 300, D: 40, Dv: 24, causal: false), gradients: false)
    }

    func testBadSizesReturnErrors() {
        let x = [Float](repeating: 0, count: 16)
        var out = x
        XCTAssertEqual(dk_attention_forward(x, x, x, &out, 1, 2, 0, 2, 2, 1, 0, nil), Int32(DK_ERR_SHAPE))
        XCTAssertEqual(dk_attention_forward(x, x, x, &out, 1, 2, 2, -2, 2, 1, 0, nil), Int32(DK_ERR_SHAPE))
    }
}
