// Shared helpers for the kernel tests: seeded data, error measures, finite differences.
import XCTest

/// Deterministic pseudo-random floats in [-1, 1) (64-bit LCG), so failures reproduce.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Double(state >> 40) / Double(1 << 24)) * 2 - 1
    }
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in next() * scale } }
}

/// Largest |a - b| divided by max(1, largest |b|): a scale-aware error for whole tensors.
func relativeError(_ a: [Float], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "test bug: compared arrays differ in length")
    var diff = 0.0, mag = 1.0
    for i in 0..<a.count {
        diff = max(diff, abs(Double(a[i]) - b[i]))
        mag = max(mag, abs(b[i]))
    }
    return diff / mag
}

func relativeError(_ a: [Float], _ b: [Float]) -> Double { relativeError(a, b.map(Double.init)) }

/// Gradient of loss(x) by central differences in double precision.
func numericGradient(_ x: [Double], step: Double = 1e-5, _ loss: ([Double]) -> Double) -> [Double] {
    var x = x
    var grad = [Double](repeating: 0, count: x.count)
    for i in 0..<x.count {
        let saved = x[i]
        x[i] = saved + step
        let up = loss(x)
        x[i] = saved - step
        let down = loss(x)
        x[i] = saved
        grad[i] = (up - down) / (2 * step)
    }
    return grad
}

func dot(_ a: [Double], _ b: [Float]) -> Double {
    var s = 0.0
    for i in 0..<a.count { s += a[i] * Double(b[i]) }
    return s
}

extension Array where Element == Float {
    var doubles: [Double] { map(Double.init) }
}
