// The number format forward convolutions compute in: float32, or bfloat16 inputs with float32
// accumulation and outputs (about twice as fast on CPUs with AVX-512 BF16). Gradients are
// always float32: this is an inference option.
import CKernels

public enum ConvolutionPrecision: String, CaseIterable {
    case float32 = "fp32"
    case bfloat16 = "bf16"

    /// Makes every later forward convolution use this precision; throws when
    /// this CPU's oneDNN cannot run bf16 convolutions, leaving float32 in place.
    public static func use(_ precision: ConvolutionPrecision) throws {
        guard dk_conv_set_bf16(precision == .bfloat16 ? 1 : 0) == 0 else {
            throw TensorError.invalidArgument("this CPU cannot run bf16 convolutions (oneDNN needs AVX-512 BF16 or AMX)")
        }
    }
}
