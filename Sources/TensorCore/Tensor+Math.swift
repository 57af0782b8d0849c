// Elementwise math functions (exp, log, sqrt, pow, tanh, sin, cos, erf, clamp, ...) with backward.
import Foundation

extension Tensor {
    public func exp() -> Tensor {
        let out = map { Foundation.exp($0) }
        return Tensor.record(out, [self]) { g in [Tensor.zipMap(g, out, *)] }
    }

    public func log() -> Tensor {
        let x = self
        return Tensor.record(map { Foundation.log($0) }, [x]) { g in [Tensor.zipMap(g, x, /)] }
    }

    public func sqrt() -> Tensor {
        let out = map { $0.squareRoot() }
        return Tensor.record(out, [self]) { g in [Tensor.zipMap(g, out, { $0 * 0.5 / $1 })] }
    }

    public func rsqrt() -> Tensor {
        let out = map { 1 / $0.squareRoot() }
        return Tensor.record(out, [self]) { g in [Tensor.zipMap(g, out, { -0.5 * $0 * $1 * $1 * $1 })] }
    }

    public func pow(_ exponent: Float) -> Tensor {
        let x = self
        return Tensor.record(map { Foundation.pow($0, exponent) }, [x]) { g in
            [Tensor.zipMap(g, x, { $0 * exponent * Foundation.pow($1, exponent - 1) })]
        }
    }

    public func square() -> Tensor {
        let x = self
        return Tensor.record(map { $0 * $0 }, [x]) { g in [Tensor.zipMap(g, x, { 2 * $0 * $1 })] }
    }

    public func tanh() -> Tensor {
        let out = map { Foundation.tanh($0) }
        return Tensor.record(out, [self]) { g in [Tensor.zipMap(g, out, { $0 * (1 - $1 * $1) })] }
    }

    public func sigmoid() -> Tensor {
        let out = map { 1 / (1 + Foundation.exp(-$0)) }
        return Tensor.record(out, [self]) { g in [Tensor.zipMap(g, out, { $0 * $1 * (1 - $1) })] }
    }

    public func sin() -> Tensor {
        let x = self
        return Tensor.record(map { Foundation.sin($0) }, [x]) { g in [Tensor.zipMap(g, x, { $0 * Foundation.cos($1) })] }
    }

    public func cos() -> Tensor {
        let x = self
        return Tensor.record(map { Foundation.cos($0) }, [x]) { g in [Tensor.zipMap(g, x, { -$0 * Foundation.sin($1) })] }
    }

    public func erf() -> Tensor {
        let x = self
        let scale: Float = 2 / Float.pi.squareRoot()
        return Tensor.record(map { Foundation.erf($0) }, [x]) { g in
            [Tensor.zipMap(g, x, { $0 * scale * Foundation.exp(-$1 * $1) })]
        }
    }

    public func abs() -> Tensor {
        let x = self
        return Tensor.record(map { Swift.abs($0) }, [x]) { g in
            [Tensor.zipMap(g, x, { $1 > 0 ? $0 : ($1 < 0 ? -$0 : 0) })]
        }
    }

    public func relu() -> Tensor {
        let x = self
        return Tensor.record(map { Swift.max($0, 0) }, [x]) { g in [Tensor.zipMap(g, x, { $1 > 0 ? $0 : 0 })] }
    }

    /// Clamps to [low, high]; the gradient passes where the value was inside the range.
    public func clamped(_ low: Float, _ high: Float) -> Tensor {
        let x = self
        return Tensor.record(map { Swift.min(Swift.max($0, low), high) }, [x]) { g in
            [Tensor.zipMap(g, x, { ($1 >= low && $1 <= high) ? $0 : 0 })]
        }
    }
}
