// Elementwise arithmetic with broadcasting, and each op's backward.
import CKernels
import Foundation

/// The four arithmetic ops of the C kernels.
enum ArithmeticOp {
    case add, subtract, multiply, divide

    /// The kernel computing `a op b`, or with `reversed` `b op a`, for the operands passed as (a, b).
    func kernel(reversed: Bool = false) -> Int32 {
        switch self {
        case .add: return Int32(DK_OP_ADD)
        case .subtract: return Int32(reversed ? DK_OP_RSUB : DK_OP_SUB)
        case .multiply: return Int32(DK_OP_MUL)
        case .divide: return Int32(reversed ? DK_OP_RDIV : DK_OP_DIV)
        }
    }
}

extension Tensor {
    /// `a op b` with broadcasting, by the vectorised C kernels (no graph). One operand has
    /// the result's shape and the other repeats a contiguous block of it (a scalar, a
    /// per-channel or per-feature vector); anything else is expanded first.
    static func combine(_ a: Tensor, _ b: Tensor, _ op: ArithmeticOp) -> Tensor {
        let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape)
        let result = Tensor(uninitializedShape: shape)
        let total = result.count
        func run(_ kernel: Int32, _ full: Tensor, _ other: Tensor) -> Bool {
            guard full.count == total else { return false }
            if other.count == total {
                dk_binary(kernel, full.pointer, other.pointer, result.pointer, Int64(total), Int32(DK_BCAST_FULL), 1, 1)
            } else if other.count == 1 {
                dk_binary(kernel, full.pointer, other.pointer, result.pointer, Int64(total), Int32(DK_BCAST_SCALAR), 1, 1)
            } else if let (mid, inner) = broadcastPattern(other.shape, to: shape) {
                dk_binary(kernel, full.pointer, other.pointer, result.pointer, Int64(total), Int32(DK_BCAST_PATTERN),
                          Int64(mid), Int64(inner))
            } else {
                return false
            }
            return true
        }
        if !run(op.kernel(), a, b) && !run(op.kernel(reversed: true), b, a) {
            let ea = a.expandedCopy(to: shape), eb = b.expandedCopy(to: shape)
            dk_binary(op.kernel(), ea.pointer, eb.pointer, result.pointer, Int64(total), Int32(DK_BCAST_FULL), 1, 1)
        }
        return result
    }

    /// `self op s` elementwise, by the C kernels (no graph); `reversed` computes `s op self`.
    func combine(_ s: Float, _ op: ArithmeticOp, reversed: Bool = false) -> Tensor {
        let result = Tensor(uninitializedShape: shape)
        dk_scalar(op.kernel(reversed: reversed), pointer, s, result.pointer, Int64(count))
        return result
    }

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
        let out = combine(a, b, .add)
        return record(out, [a, b]) { g in [g.summed(toShape: a.shape), g.summed(toShape: b.shape)] }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = combine(a, b, .subtract)
        return record(out, [a, b]) { g in [g.summed(toShape: a.shape), g.combine(-1, .multiply).summed(toShape: b.shape)] }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = combine(a, b, .multiply)
        return record(out, [a, b]) { g in
            [a.requiresGrad ? combine(g, b, .multiply).summed(toShape: a.shape) : nil,
             b.requiresGrad ? combine(g, a, .multiply).summed(toShape: b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = combine(a, b, .divide)
        return record(out, [a, b]) { g in
            // d(a/b)/db = -out / b
            [a.requiresGrad ? combine(g, b, .divide).summed(toShape: a.shape) : nil,
             b.requiresGrad ? combine(combine(g, out, .multiply), b, .divide).combine(-1, .multiply).summed(toShape: b.shape) : nil]
        }
    }

    public static prefix func - (a: Tensor) -> Tensor { a * -1 }

    public static func + (a: Tensor, s: Float) -> Tensor {
        record(a.combine(s, .add), [a]) { g in [g] }
    }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func * (a: Tensor, s: Float) -> Tensor {
        record(a.combine(s, .multiply), [a]) { g in [g.combine(s, .multiply)] }
    }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func - (s: Float, a: Tensor) -> Tensor {
        record(a.combine(s, .subtract, reversed: true), [a]) { g in [g.combine(-1, .multiply)] }
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
