// Element types of the safetensors format and their sizes in bytes.

/// A tensor element type as spelled in a safetensors header.
/// Only F32, F16, BF16 and I64 convert to Swift arrays; the others parse but are rejected on conversion.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", i64 = "I64"
    case f64 = "F64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }
}
