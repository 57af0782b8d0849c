// A tensor's stored bytes, as they are or converted to another float type (for checkpoint conversion).

extension SafetensorsFile {
    /// The tensor's little-endian bytes in `dtype` (nil: as stored). Same type: copied verbatim;
    /// F32/F16/BF16 to another float type: through Float, rounding to nearest even.
    public func bytes(_ name: String, as dtype: SafetensorsDType? = nil) throws -> [UInt8] {
        let stored = try self.dtype(name)
        let target = dtype ?? stored
        if target == stored { return try withRawBytes(name) { [UInt8]($0) } }
        let floats = try self.floats(name)
        switch target {
        case .f32: return floats.withUnsafeBytes { [UInt8]($0) }
        case .f16: return Float16Conversion.halfBits(from: floats).withUnsafeBytes { [UInt8]($0) }
        case .bf16: return Float16Conversion.bfloat16Bits(from: floats).withUnsafeBytes { [UInt8]($0) }
        default:
            throw SafetensorsError(path: path, reason: "tensor \"\(name)\": cannot convert \(stored.rawValue) to \(target.rawValue) (supported: F32, F16, BF16)")
        }
    }
}
