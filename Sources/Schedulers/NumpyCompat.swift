// numpy/torch array routines as diffusers' schedulers use them, with numpy's rounding.
import Foundation

/// Reproduces the float64 numpy (and float32 torch) constructions diffusers builds its
/// timestep and sigma tables with, so the tables match to the last bit or close to it.
enum NumpyCompat {
    /// `np.linspace(start, stop, num, endpoint:)` in float64: `i * step + start`, last = stop.
    static func linspace(_ start: Double, _ stop: Double, _ num: Int, endpoint: Bool = true) -> [Double] {
        guard num > 0 else { return [] }
        let div = endpoint ? num - 1 : num
        guard div > 0 else { return [start] }
        let step = (stop - start) / Double(div)
        var y = (0..<num).map { Double($0) * step + start }
        if endpoint && num > 1 { y[num - 1] = stop }
        return y
    }

    /// `np.arange(start, stop, step)` in float64: `start + i * step`, ceil((stop-start)/step) entries.
    static func arange(_ start: Double, _ stop: Double, _ step: Double) -> [Double] {
        let count = max(0, Int(((stop - start) / step).rounded(.up)))
        return (0..<count).map { start + Double($0) * step }
    }

    /// numpy's `round` (half to even).
    static func round(_ x: Double) -> Double { x.rounded(.toNearestOrEven) }

    /// `np.interp(x, arange(len(table)), table)` in float64.
    static func interp(_ x: Double, table: [Float]) -> Double {
        let n = table.count
        if x <= 0 { return Double(table[0]) }
        if x >= Double(n - 1) { return Double(table[n - 1]) }
        let j = Int(x.rounded(.down))
        let lo = Double(table[j]), hi = Double(table[j + 1])
        if x == Double(j) { return lo }
        let slope = (hi - lo) / (Double(j + 1) - Double(j))
        return slope * (x - Double(j)) + lo
    }

    /// `torch.linspace(start, end, steps, dtype=float32)` on CPU: the step and both
    /// halves are computed in float32, the second half counted back from `end`.
    static func torchLinspaceFloat(_ start: Double, _ end: Double, _ steps: Int) -> [Float] {
        guard steps > 1 else { return steps == 1 ? [Float(start)] : [] }
        let s = Float(start), e = Float(end)
        let step = (e - s) / Float(steps - 1)
        let halfway = steps / 2
        return (0..<steps).map { i in
            i < halfway ? s + step * Float(i) : e - step * Float(steps - i - 1)
        }
    }

    /// Karras et al. (2022) noise levels, rho = 7, in float64.
    static func karrasSigmas(sigmaMin: Double, sigmaMax: Double, count: Int) -> [Double] {
        let rho = 7.0
        let minInvRho = pow(sigmaMin, 1 / rho), maxInvRho = pow(sigmaMax, 1 / rho)
        return linspace(0, 1, count).map { ramp in pow(maxInvRho + ramp * (minInvRho - maxInvRho), rho) }
    }

    /// diffusers' `_sigma_to_t`: the fractional training timestep whose log-sigma matches,
    /// interpolating linearly between neighbours in `logSigmas` (float32, increasing in t).
    static func sigmaToT(_ sigma: Double, logSigmas: [Float]) -> Double {
        let logSigma = Foundation.log(max(sigma, 1e-10))
        // Last index whose log-sigma is <= logSigma (0 when none), clipped to count - 2.
        var lowIndex = 0
        for (i, ls) in logSigmas.enumerated() where logSigma - Double(ls) >= 0 { lowIndex = i }
        lowIndex = min(lowIndex, logSigmas.count - 2)
        let low = Double(logSigmas[lowIndex]), high = Double(logSigmas[lowIndex + 1])
        let w = min(max((low - logSigma) / (low - high), 0), 1)
        return (1 - w) * Double(lowIndex) + w * Double(lowIndex + 1)
    }
}
