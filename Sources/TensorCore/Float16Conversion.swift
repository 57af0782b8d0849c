// Bulk and scalar conversions between Float and the 16-bit formats IEEE binary16 (F16) and bfloat16 (BF16).

#if _endian(big)
#error("Diffuse's storage formats are little-endian; big-endian hosts are not supported")
#endif

/// Conversions between `Float` and 16-bit float bit patterns. Float → 16-bit rounds to nearest even;
/// 16-bit → Float is exact (subnormals, infinities and NaNs included). The bulk forms read unaligned bytes
/// and run branch-free so the compiler vectorises them.
public enum Float16Conversion {
    // MARK: Scalars

    /// binary16 bits → Float, exact. Works without relying on subnormal float arithmetic (safe under DAZ/FTZ).
    @inline(__always)
    public static func float(fromHalfBits half: UInt16) -> Float {
        let bits = UInt32(half)
        let sign = (bits & 0x8000) << 16
        let shifted = (bits & 0x7fff) << 13  // exponent and mantissa in float position
        let exponent = shifted & 0x0f80_0000
        let normal = shifted &+ (112 << 23)  // rebias 15 → 127
        let infinityOrNaN = shifted &+ (224 << 23)  // exponent all ones, mantissa (payload) kept
        // Zero/subnormal: value = mantissa·2^-24, computed as (2^-14·(1 + m/1024)) − 2^-14 in normal floats.
        let magic = Float(bitPattern: 113 << 23)
        let subnormal = (Float(bitPattern: shifted &+ (113 << 23)) - magic).bitPattern
        let magnitude = exponent == 0x0f80_0000 ? infinityOrNaN : (exponent == 0 ? subnormal : normal)
        return Float(bitPattern: magnitude | sign)
    }

    /// Float → binary16 bits, round to nearest even; overflow gives ±inf, NaN becomes the quiet NaN 0x7e00
    /// (with the sign kept). Branch-free so bulk conversion vectorises.
    @inline(__always)
    public static func halfBits(from value: Float) -> UInt16 {
        let sign = (value.bitPattern & 0x8000_0000) >> 16
        let magnitude = value.bitPattern & 0x7fff_ffff
        // Subnormal or zero result: adding 0.5 aligns the 10 mantissa bits at the bottom, rounding to nearest even.
        let subnormalMagic = Float(0.5)
        let subnormal = (Float(bitPattern: magnitude) + subnormalMagic).bitPattern &- subnormalMagic.bitPattern
        // Normal result: rebias the exponent and round the 13 dropped bits to nearest even.
        let odd = (magnitude >> 13) & 1
        let normal = (magnitude &+ 0xc800_0fff &+ odd) >> 13  // 0xc8000000 = (15 − 127) << 23
        let overflow: UInt32 = magnitude > 0x7f80_0000 ? 0x7e00 : 0x7c00
        let bits = magnitude >= 0x4780_0000 ? overflow : (magnitude < 0x3880_0000 ? subnormal : normal)
        return UInt16(truncatingIfNeeded: bits | sign)
    }

    /// bfloat16 bits → Float, exact.
    @inline(__always)
    public static func float(fromBFloat16Bits bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// Float → bfloat16 bits, round to nearest even (as PyTorch does); NaN becomes a quiet NaN of the same sign.
    @inline(__always)
    public static func bfloat16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let roundingBias = 0x7fff &+ ((bits >> 16) & 1)
        let rounded = (bits &+ roundingBias) >> 16
        let quietNaN = (bits >> 16) | 0x0040
        return UInt16(truncatingIfNeeded: (bits & 0x7fff_ffff) > 0x7f80_0000 ? quietNaN : rounded)
    }

    // MARK: Bulk conversions from little-endian bytes

    /// Converts `destination.count` binary16 values starting at `source` (any alignment) to Float.
    public static func convertHalf(_ source: UnsafeRawPointer, to destination: UnsafeMutableBufferPointer<Float>) {
        guard let output = destination.baseAddress else { return }
        for index in 0..<destination.count {
            let half = source.loadUnaligned(fromByteOffset: 2 &* index, as: UInt16.self)
            output[index] = float(fromHalfBits: half)
        }
    }

    /// Converts `destination.count` bfloat16 values starting at `source` (any alignment) to Float.
    public static func convertBFloat16(_ source: UnsafeRawPointer, to destination: UnsafeMutableBufferPointer<Float>) {
        guard let output = destination.baseAddress else { return }
        for index in 0..<destination.count {
            let bits = source.loadUnaligned(fromByteOffset: 2 &* index, as: UInt16.self)
            output[index] = float(fromBFloat16Bits: bits)
        }
    }

    /// Float values → binary16 bits.
    public static func halfBits(from values: [Float]) -> [UInt16] {
        values.withUnsafeBufferPointer { input in
            [UInt16](unsafeUninitializedCapacity: input.count) { output, initialized in
                for index in 0..<input.count { output[index] = halfBits(from: input[index]) }
                initialized = input.count
            }
        }
    }

    /// Float values → bfloat16 bits.
    public static func bfloat16Bits(from values: [Float]) -> [UInt16] {
        values.withUnsafeBufferPointer { input in
            [UInt16](unsafeUninitializedCapacity: input.count) { output, initialized in
                for index in 0..<input.count { output[index] = bfloat16Bits(from: input[index]) }
                initialized = input.count
            }
        }
    }
}
