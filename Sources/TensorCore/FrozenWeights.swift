// A scope in which model weights do not change, so convolutions may keep their weights in
// oneDNN's layout, and bf16 linear layers their bf16 weights, across calls instead of
// converting them every time (the denoising loop).
import CKernels

public enum FrozenWeights {
    /// Runs `body` with convolution weights kept in oneDNN's layout and float32 linear weights in
    /// bf16 (under `--precision bf16`; weights stored in bf16 need no copy), up to `budgetBytes`
    /// of copies; they are freed when the outermost scope ends. No weight used inside may change
    /// or be freed while it runs.
    public static func during<T>(budgetBytes: Int = 256 << 20, _ body: () throws -> T) rethrows -> T {
        dk_weights_frozen_begin(max(0, budgetBytes))
        defer { dk_weights_frozen_end() }
        return try body()
    }
}
