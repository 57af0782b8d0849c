// Wall time of the engine's heavy operations by kind, forward and backward together: where a
// training step goes (`diffuse-bench bench_unet_train --alternate --parts`). Off unless enabled,
// and then only the calling thread's wall clock around each op: the kernels inside are parallel.
import Foundation

public enum OpProfile {
    public enum Part: String, CaseIterable, Sendable {
        case attention = "attention"            // scaled dot-product attention (both products and the softmax)
        case linear = "linear"                  // linear layers' products
        case convolution3x3 = "conv 3x3"        // 3x3 convolutions
        case convolutionOther = "conv other"    // 1x1 and the rest
        case norm = "norms"                     // group norm (with SiLU) and layer norm
        case activation = "activations"         // SiLU, GELU and GEGLU on their own
        case optimizer = "optimizer"            // AdamW's update
    }

    /// The pass an op's time belongs to (the optimiser's update counts as forward).
    public enum Pass: String, CaseIterable, Sendable {
        case forward = "fwd"
        case backward = "bwd"
    }

    nonisolated(unsafe) public static var isEnabled = false
    nonisolated(unsafe) private static var nanoseconds: [Part: [Pass: UInt64]] = [:]

    /// The time in each part since the last `reset`, in seconds, both passes together.
    public static var seconds: [Part: Double] {
        Dictionary(uniqueKeysWithValues: Part.allCases.map { part in (part, Pass.allCases.map { seconds(part, $0) }.reduce(0, +)) })
    }

    /// The time in one pass of `part` since the last `reset`, in seconds.
    public static func seconds(_ part: Part, _ pass: Pass) -> Double { Double(nanoseconds[part]?[pass] ?? 0) / 1e9 }

    public static func reset() { nanoseconds = [:] }

    /// Runs `body`, adding its wall time to `part` in `pass` when profiling is on.
    @inline(__always)
    static func measure<T>(_ part: Part, _ pass: Pass = .forward, _ body: () throws -> T) rethrows -> T {
        guard isEnabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { nanoseconds[part, default: [:]][pass, default: 0] += DispatchTime.now().uptimeNanoseconds - start }
        return try body()
    }

    /// `measure` for code outside TensorCore (the optimiser).
    public static func measured<T>(_ part: Part, _ body: () throws -> T) rethrows -> T { try measure(part, .forward, body) }
}
