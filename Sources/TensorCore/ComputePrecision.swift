// The number format of the products (GEMMs, convolutions, attention): float32, or bfloat16 inputs
// with float32 accumulation and outputs (oneDNN's kernels for CPUs with AVX-512 BF16 or AMX).
// Norms, softmax statistics and the scheduler stay float32; weights too, unless a model was built
// for bf16 inference (NN's WeightStorage), whose linear and convolution weights are stored in bf16.
import CKernels
import Foundation

public enum ComputePrecision: String, CaseIterable {
    case float32 = "fp32"
    case bfloat16 = "bf16"

    /// How products are computed now.
    public enum Mode: Equatable {
        case float32
        /// oneDNN's bf16 kernels.
        case bfloat16
        /// bf16's numerics on any CPU (float32 kernels on operands rounded to bf16): slower than
        /// float32, for tests and checks of bf16 quality on CPUs without bf16.
        case bfloat16Emulated

        /// As benchmarks print it: fp32, bf16 or bf16-emulated.
        public var name: String {
            switch self {
            case .float32: return "fp32"
            case .bfloat16: return "bf16"
            case .bfloat16Emulated: return "bf16-emulated"
            }
        }
    }

    /// Whether this CPU runs bf16 natively (AVX-512 BF16 or AMX, as oneDNN reports it).
    public static var nativeBFloat16: Bool { dk_bf16_native_supported() != 0 }

    /// Setting this environment variable to 1 makes `use(.bfloat16)` emulate bf16 on any CPU.
    public static let emulationVariable = "DIFFUSE_BF16_EMULATE"

    public static var mode: Mode {
        switch dk_get_precision() {
        case Int32(DK_PRECISION_BF16): return .bfloat16
        case Int32(DK_PRECISION_BF16_EMULATED): return .bfloat16Emulated
        default: return .float32
        }
    }

    /// Makes every later product use `precision` and returns the mode chosen: bf16 runs natively
    /// where the CPU can, emulated when `emulate` (or $DIFFUSE_BF16_EMULATE=1) asks for it, and
    /// otherwise falls back to float32 (never slower than float32); the caller says so.
    @discardableResult
    public static func use(_ precision: ComputePrecision, emulate: Bool? = nil) throws -> Mode {
        let emulated = emulate ?? (ProcessInfo.processInfo.environment[emulationVariable] == "1")
        let wanted: Mode = precision == .float32 ? .float32 : emulated ? .bfloat16Emulated : nativeBFloat16 ? .bfloat16 : .float32
        let code: Int32
        switch wanted {
        case .float32: code = Int32(DK_PRECISION_F32)
        case .bfloat16: code = Int32(DK_PRECISION_BF16)
        case .bfloat16Emulated: code = Int32(DK_PRECISION_BF16_EMULATED)
        }
        guard dk_set_precision(code) == 0 else {
            throw TensorError.invalidArgument("oneDNN refused \(precision.rawValue) products on this CPU")
        }
        return wanted
    }

    /// The one line a command prints when bf16 was asked for and this CPU runs float32 instead.
    public static let fallbackNotice =
        "this CPU has no AVX-512 BF16 or AMX, so --precision bf16 runs in float32 (as fast as it gets here)"
}
