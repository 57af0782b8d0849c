// Group norm (plain and fused with SiLU) and layer norm against double-precision references.
import CKernels
import Foundation
import XCTest

final class NormalizationTests: XCTestCase {
    // Group norm of x [N, C, HW] in double precision, optionally followed by SiLU.
    func groupNorm(_ x: [Double], _ gamma: [Double], _ beta: [Double], N: Int, C: Int, HW: Int, G: Int,
                   eps: Double, silu: Bool) -> (y: [Double], mean: [Double], rstd: [Double]) {
        var y = x, means = [Double](), rstds = [Double]()
        let len = C / G * HW
        for t in 0..<(N * G) {
            let part = x[(t * len)..<((t + 1) * len)]
            let mean = part.reduce(0, +) / Double(len)
            let rstd = 1 / (part.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(len) + eps).squareRoot()
            means.append(mean)
            rstds.append(rstd)
            for i in (t * len)..<((t + 1) * len) {
                let c = (i / HW) % C
                let v = (x[i] - mean) * rstd * gamma[c] + beta[c]
                y[i] = silu ? v / (1 + exp(-v)) : v
            }
        }
        return (y, means, rstds)
    }

    func checkGroupNorm(N: Int, C: Int, HW: Int, G: Int, silu: Bool) {
        var rng = TestRandom(seed: UInt64(C * 10 + HW + (silu ? 1 : 0)))
        let x = rng.floats(N * C * HW, scale: 2).map { $0 + 0.5 }, gamma = rng.floats(C), beta = rng.floats(C)
        let dy = rng.floats(N * C * HW)
        var y = [Float](repeating: 0, count: x.count), mean = [Float](repeating: 0, count: N * G)
        var rstd = mean, dx = y, dgamma = gamma, dbeta = beta
        let eps: Float = 1e-5
        XCTAssertEqual(dk_group_norm_forward(x, gamma, beta, &y, &mean, &rstd, Int64(N), Int64(C), Int64(HW),
                                             Int64(G), eps, silu ? 1 : 0), 0)
        let ref = groupNorm(x.doubles, gamma.doubles, beta.doubles, N: N, C: C, HW: HW, G: G, eps: Double(eps), silu: silu)
        let what = "N \(N) C \(C) HW \(HW) G \(G) silu \(silu)"
        // Outputs are O(1); float32 two-pass statistics: 2e-6 of the output scale.
        XCTAssertLessThan(relativeError(y, ref.y), 2e-6, "forward \(what)")
        XCTAssertLessThan(relativeError(mean, ref.mean), 2e-6, "mean \(what)")
        XCTAssertLessThan(relativeError(rstd, ref.rstd), 2e-6, "rstd \(what)")

        XCTAssertEqual(dk_group_norm_backward(dy, x, gamma, beta, mean, rstd, &dx, &dgamma, &dbeta, Int64(N),
                                              Int64(C), Int64(HW), Int64(G), silu ? 1 : 0), 0)
        // Gradients of L = sum(y * dy) by central differences of the double reference.
        let loss = { (x: [Double], g: [Double], b: [Double]) -> Double in
            dot(self.groupNorm(x, g, b, N: N, C: C, HW: HW, G: G, eps: Double(eps), silu: silu).y, dy)
        }
        let xd = x.doubles, gd = gamma.doubles, bd = beta.doubles
        // Central differences carry ~1e-9 truncation; float32 gradients: 2e-5 of the gradient scale.
        XCTAssertLessThan(relativeError(dx, numericGradient(xd) { loss($0, gd, bd) }), 2e-5, "dx \(what)")
        XCTAssertLessThan(relativeError(dgamma, numericGradient(gd) { loss(xd, $0, bd) }), 2e-5, "dgamma \(what)")
        XCTAssertLessThan(relativeError(dbeta, numericGradient(bd) { loss(xd, gd, $0) }), 2e-5, "dbeta \(what)")
    }

    func testGroupNorm() {
        checkGroupNorm(N: 2, C: 6, HW: 49, G: 3, silu: false)
        checkGroupNorm(N: 2, C: 8, HW: 37, G: 8, silu: false)
        checkGroupNorm(N: 1, C: 12, HW: 5, G: 1, silu: false)
    }

    func testGroupNormFusedWithSiLU() {
        checkGroupNorm(N: 2, C: 6, HW: 49, G: 3, silu: true)
        checkGroupNorm(N: 3, C: 4, HW: 33, G: 2, silu: true)
    }

    func layerNorm(_ x: [Double], _ g: [Double], _ b: [Double], D: Int, eps: Double) -> [Double] {
        var y = x
        for r in 0..<(x.count / D) {
            let row = x[(r * D)..<((r + 1) * D)]
            let mean = row.reduce(0, +) / Double(D)
            let rstd = 1 / (row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(D) + eps).squareRoot()
            for i in 0..<D { y[r * D + i] = (x[r * D + i] - mean) * rstd * g[i] + b[i] }
        }
        return y
    }

    func testLayerNorm() {
        for (rows, D) in [(5, 7), (70, 33), (3, 100)] {
            var rng = TestRandom(seed: UInt64(rows * D))
            let x = rng.floats(rows * D, scale: 3).map { $0 - 1 }, g = rng.floats(D), b = rng.floats(D)
            let dy = rng.floats(rows * D)
            var y = [Float](repeating: 0, count: x.count), mean = [Float](repeating: 0, count: rows), rstd = mean
            var dx = y, dg = g, db = b
            XCTAssertEqual(dk_layer_norm_forward(x, g, b, &y, &mean, &rstd, Int64(rows), Int64(D), 1e-5), 0)
            XCTAssertLessThan(relativeError(y, layerNorm(x.doubles, g.doubles, b.doubles, D: D, eps: 1e-5)), 2e-6)
            XCTAssertEqual(dk_layer_norm_backward(dy, x, g, mean, rstd, &dx, &dg, &db, Int64(rows), Int64(D)), 0)
            let xd = x.doubles, gd = g.doubles, bd = b.doubles
            let loss = { (x: [Double], g: [Double], b: [Double]) in dot(self.layerNorm(x, g, b, D: D, eps: 1e-5), dy) }
            XCTAssertLessThan(relativeError(dx, numericGradient(xd) { loss($0, gd, bd) }), 2e-5, "dx rows \(rows) D \(D)")
            XCTAssertLessThan(relativeError(dg, numericGradient(gd) { loss(xd, $0, bd) }), 2e-5, "dgamma rows \(rows)")
            XCTAssertLessThan(relativeError(db, numericGradient(bd) { loss(xd, gd, $0) }), 2e-5, "dbeta rows \(rows)")
        }
    }

    func testLayerNormWithoutAffine() {
        var rng = TestRandom(seed: 3)
        let x = rng.floats(4 * 9)
        var y = [Float](repeating: 0, count: x.count)
        XCTAssertEqual(dk_layer_norm_forward(x, nil, nil, &y, nil, nil, 4, 9, 1e-5), 0)
        let ones = [Double](repeating: 1, count: 9), zeros = [Double](repeating: 0, count: 9)
        XCTAssertLessThan(relativeError(y, layerNorm(x.doubles, ones, zeros, D: 9, eps: 1e-5)), 2e-6)
    }

    func testBadSizesReturnErrors() {
        var y = [Float](repeating: 0, count: 16), m = y, r = y
        let x = [Float](repeating: 1, count: 16)
        XCTAssertEqual(dk_group_norm_forward(x, nil, nil, &y, &m, &r, 1, 6, 2, 4, 1e-5, 0), Int32(DK_ERR_SHAPE))
        XCTAssertEqual(dk_layer_norm_forward(x, nil, nil, &y, &m, &r, 2, 0, 1e-5), Int32(DK_ERR_SHAPE))
        XCTAssertEqual(dk_layer_norm_backward(x, nil, nil, m, r, &y, nil, nil, 2, 8), Int32(DK_ERR_ARG))
    }
}
