// Elementwise arithmetic with broadcasting, and each op's backward.
import Foundation

extension Tensor {
    /// Applies `f` elementwise over two broadcast operands (no graph).
    @inline(__always)
    static func zipMap(_ a: Tensor, _ b: Tensor, _ f: @escaping (Float, Float) -> Float) -> Tensor {
        let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape)
        let result = Tensor(uninitializedShape: shape)
        let pa = a.pointer, pb = b.pointer, out = result.pointer
        let total = result.count
        if a.count == total && b.count == total {
            parallelFor(total) { s, e in for i in s..<e { out[i] = f(pa[i], pb[i]) } }
        } else if b.count == 1 && a.count == total {
            let y = pb[0]
            parallelFor(total) { s, e in for i in s..<e { out[i] = f(pa[i], y) } }
        } else if a.count == 1 && b.count == total {
            let x = pa[0]
            parallelFor(total) { s, e in for i in s..<e { out[i] = f(x, pb[i]) } }
        } else if a.count == total, let (mid, inner) = broadcastPattern(b.shape, to: shape) {
            parallelFor(total) { s, e in for i in s..<e { out[i] = f(pa[i], pb[(i / inner) % mid]) } }
        } else if b.count == total, let (mid, inner) = broadcastPattern(a.shape, to: shape) {
            parallelFor(total) { s, e in for i in s..<e { out[i] = f(pa[(i / inner) % mid], pb[i]) } }
        } else {
            let ea = a.expandedCopy(to: shape), eb = b.expandedCopy(to: shape)
            let qa = ea.pointer, qb = eb.pointer
            withExtendedLifetime((ea, eb)) {
                parallelFor(total) { s, e in for i in s..<e { out[i] = f(qa[i], qb[i]) } }
            }
        }
        return result
    }

    /// Applies `f` elementwise (no graph).
    @inline(__always)
    func map(_ f: @escaping (Float) -> Float) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        let src = pointer, dst = result.pointer
        parallelFor(count) { s, e in for i in s..<e { dst[i] = f(src[i]) } }
        return result
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = zipMap(a, b, +)
        return record(out, [a, b]) { g in [g.summed(toShape: a.shape), g.summed(toShape: b.shape)] }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = zipMap(a, b, -)
        return record(out, [a, b]) { g in [g.summed(toShape: a.shape), g.map { -$0 }.summed(toShape: b.shape)] }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = zipMap(a, b, *)
        return record(out, [a, b]) { g in
            [a.requiresGrad ? zipMap(g, b, *).summed(toShape: a.shape) : nil,
             b.requiresGrad ? zipMap(g, a, *).summed(toShape: b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = zipMap(a, b, /)
        return record(out, [a, b]) { g in
            [a.requiresGrad ? zipMap(g, b, /).summed(toShape: a.shape) : nil,
             b.requiresGrad ? zipMap(zipMap(g, out, *), b, { -$0 / $1 }).summed(toShape: b.shape) : nil]
        }
    }

    public static prefix func - (a: Tensor) -> Tensor { a * -1 }

    public static func + (a: Tensor, s: Float) -> Tensor {
        record(a.map { $0 + s }, [a]) { g in [g] }
    }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func * (a: Tensor, s: Float) -> Tensor {
        record(a.map { $0 * s }, [a]) { g in [g.map { $0 * s }] }
    }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func - (s: Float, a: Tensor) -> Tensor {
        record(a.map { s - $0 }, [a]) { g in [g.map { -$0 }] }
    }

    /// Elementwise maximum with a broadcast operand; the gradient goes to the larger (ties: a).
    public func maximum(_ other: Tensor) -> Tensor {
        let out = Tensor.zipMap(self, other, { Swift.max($0, $1) })
        let a = self, b = other
        return Tensor.record(out, [a, b]) { g in
            let maskA = Tensor.zipMap(a, b, { $0 >= $1 ? 1 : 0 })
            return [Tensor.zipMap(g, maskA, *).summed(toShape: a.shape),
                    Tensor.zipMap(g, maskA, { $0 * (1 - $1) }).summed(toShape: b.shape)]
        }
    }

    /// `condition != 0 ? a : b`, elementwise with broadcasting; no gradient to the condition.
    public static func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShape(broadcastShape(condition.shape, a.shape), b.shape)
        let c = condition.expandedCopy(to: shape), x = a.expandedCopy(to: shape), y = b.expandedCopy(to: shape)
        let result = Tensor(uninitializedShape: shape)
        let pc = c.pointer, px = x.pointer, py = y.pointer, dst = result.pointer
        for i in 0..<result.count { dst[i] = pc[i] != 0 ? px[i] : py[i] }
        return record(result, [a, b]) { g in
            [zipMap(g, c, { $1 != 0 ? $0 : 0 }).summed(toShape: a.shape),
             zipMap(g, c, { $1 != 0 ? 0 : $0 }).summed(toShape: b.shape)]
        }
    }
}
