// Tests for SafetensorsFile / SafetensorsWriter: real fixture files, round trips, 16-bit rounding, corrupt files.

import Foundation
import TestSupport
import XCTest
@testable import TensorCore

final class SafetensorsTests: XCTestCase {
    private var temporaryDirectory: URL!

    override func setUpWithError() throws {
        temporaryDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("SafetensorsTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temporaryDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: temporaryDirectory)
    }

    // MARK: Fixtures

    func testReadsDiffusersUNetWeights() throws {
        let file = try SafetensorsFile(contentsOf: SharedData.url("fixtures/diffusers-tiny/unet/diffusion_pytorch_model.safetensors"))
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(file.names, file.names.sorted())
        // block_out_channels [32, 64], latent channels 4, cross_attention_dim 32 (README).
        XCTAssertEqual(try file.shape("conv_in.weight"), [32, 4, 3, 3])
        XCTAssertEqual(try file.shape("conv_out.weight"), [4, 32, 3, 3])
        XCTAssertEqual(try file.shape("down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight"), [64, 32])
        XCTAssertEqual(try file.dtype("conv_in.weight"), .f32)
        XCTAssertTrue(file.contains("conv_in.bias"))
        XCTAssertFalse(file.contains("conv_in.missing"))
        // Every tensor converts and has as many values as its shape says.
        var total = 0
        for name in file.names {
            let values = try file.floats(name)
            XCTAssertEqual(values.count, try file.shape(name).reduce(1, *), name)
            XCTAssertTrue(values.allSatisfy(\.isFinite), name)
            total += values.count
        }
        let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int ?? -1
        XCTAssertLessThanOrEqual(total * 4, size)
        // Norm scales were drawn as 1 + 0.1·N(0,1): their mean is near 1.
        let scale = try file.floats("conv_norm_out.weight")
        XCTAssertEqual(scale.reduce(0, +) / Float(scale.count), 1, accuracy: 0.1)
    }

    func testReadsReferenceUNetTable() throws {
        let file = try SafetensorsFile(contentsOf: SharedData.url("fixtures/diffusers-tiny/reference/unet.safetensors"))
        let expected: [String: [Int]] = [
            "batch/sample": [2, 4, 32, 32], "batch/timesteps": [2], "batch/encoder_hidden_states": [2, 77, 32],
            "batch/out": [2, 4, 32, 32], "scalar/sample": [1, 4, 32, 24], "scalar/timestep": [1],
            "scalar/encoder_hidden_states": [1, 77, 32], "scalar/out": [1, 4, 32, 24],
            "float/timesteps": [2], "float/out": [2, 4, 32, 32],
        ]
        XCTAssertEqual(file.names, expected.keys.sorted())
        for (name, shape) in expected { XCTAssertEqual(try file.shape(name), shape, name) }
        XCTAssertEqual(try file.floats("batch/timesteps"), [999, 10])
        XCTAssertEqual(try file.int64s("batch/timesteps"), [999, 10])
        XCTAssertEqual(try file.floats("scalar/timestep"), [500])
        XCTAssertEqual(try file.floats("float/timesteps"), [957.375, 41.625])
        XCTAssertThrowsError(try file.int64s("float/timesteps")) { error in
            XCTAssertTrue("\(error)".contains("float/timesteps"), "\(error)")
        }
    }

    func testReadsInt64TokenIds() throws {
        let file = try SafetensorsFile(contentsOf: SharedData.url("fixtures/diffusers-tiny/reference/text_encoder.safetensors"))
        XCTAssertEqual(try file.dtype("input_ids"), .i64)
        XCTAssertEqual(try file.shape("input_ids"), [3, 77])
        let ids = try file.int64s("input_ids")
        // Each row starts with BOS 49406 and is padded with 49407; every id is in the 49408-token vocabulary.
        for row in 0..<3 {
            XCTAssertEqual(ids[row * 77], 49406)
            XCTAssertEqual(ids[row * 77 + 76], 49407)
        }
        XCTAssertTrue(ids.allSatisfy { (0..<49408).contains($0) })
        XCTAssertEqual(try file.floats("input_ids"), ids.map(Float.init))
    }

    /// Values must land at the right offsets: the VAE reference satisfies std = exp(logvar/2), sample = mean + std·noise.
    func testReferenceValuesAreConsistent() throws {
        let file = try SafetensorsFile(contentsOf: SharedData.url("fixtures/diffusers-tiny/reference/vae_encode.safetensors"))
        let mean = try file.floats("mean"), logvar = try file.floats("logvar"), std = try file.floats("std")
        let noise = try file.floats("posterior_noise"), sample = try file.floats("sample")
        XCTAssertEqual(mean, try file.floats("mode"))
        for index in mean.indices {
            XCTAssertEqual(std[index], exp(0.5 * logvar[index]), accuracy: 1e-5 * max(1, std[index]))
            XCTAssertEqual(sample[index], mean[index] + std[index] * noise[index], accuracy: 1e-5 * max(1, abs(sample[index])))
        }
    }

    /// Rewriting reference files reproduces them byte for byte (same layout as the reference library).
    func testRewriteIsByteIdenticalToReferenceLibrary() throws {
        for relative in ["fixtures/diffusers-tiny/reference/unet.safetensors",
                         "fixtures/diffusers-tiny/reference/text_encoder.safetensors",
                         "fixtures/diffusers-tiny/unet/diffusion_pytorch_model.safetensors"] {
            let url = try SharedData.url(relative)
            let file = try SafetensorsFile(contentsOf: url)
            var writer = SafetensorsWriter()
            for name in file.names {
                switch try file.dtype(name) {
                case .i64: try writer.add(name, shape: file.shape(name), int64s: file.int64s(name))
                default: try writer.add(name, shape: file.shape(name), floats: file.floats(name))
                }
            }
            let copy = temporaryDirectory.appendingPathComponent("copy.safetensors")
            try writer.write(to: copy, metadata: file.metadata)
            XCTAssertEqual(try Data(contentsOf: copy), try Data(contentsOf: url), relative)
        }
    }

    // MARK: Round trips

    private func roundTrip(_ configure: (inout SafetensorsWriter) throws -> Void,
                           metadata: [String: String] = [:]) throws -> SafetensorsFile {
        var writer = SafetensorsWriter()
        try configure(&writer)
        let url = temporaryDirectory.appendingPathComponent("round-trip.safetensors")
        try writer.write(to: url, metadata: metadata)
        return try SafetensorsFile(contentsOf: url)
    }

    func testRoundTripAllDTypes() throws {
        // Every value here is exactly representable in F16 (largest normal, smallest normal, smallest subnormal).
        let values: [Float] = [0, -0.0, 1, -2.5, 3.140625, 65504, -65504, 0x1p-14, 0x1p-24, .infinity, -.infinity]
        let wide: [Float] = [1e30, -1e-30, 0x1p-126, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, 1.0 / 3.0]
        let integers: [Int64] = [0, -1, 1, .max, .min, (1 << 53) + 1]
        let metadata = ["format": "pt", "quote\"and\\slash": "line\nbreak\u{1}é"]
        let file = try roundTrip({ writer in
            try writer.add("f32", shape: [wide.count + values.count], floats: wide + values)
            try writer.add("f16", shape: [values.count], floats: values, as: .f16)
            try writer.add("bf16", shape: [1, values.count], floats: values.map { Float(bitPattern: $0.bitPattern & 0xffff_0000) }, as: .bf16)
            try writer.add("i64", shape: [2, 3], int64s: integers)
            try writer.add("empty", shape: [0, 4], floats: [])
            try writer.add("scalar", shape: [], floats: [7])
            try writer.add("nan", shape: [3], floats: [.nan, -.nan, .signalingNaN], as: .f16)
        }, metadata: metadata)
        XCTAssertEqual(file.names, ["bf16", "empty", "f16", "f32", "i64", "nan", "scalar"])
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(try file.floats("f32").map(\.bitPattern), (wide + values).map(\.bitPattern))
        XCTAssertEqual(try file.floats("f16").map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertEqual(try file.floats("bf16").map(\.bitPattern), values.map { $0.bitPattern & 0xffff_0000 })
        XCTAssertEqual(try file.int64s("i64"), integers)
        XCTAssertEqual(try file.dtype("f16"), .f16)
        XCTAssertEqual(try file.dtype("bf16"), .bf16)
        XCTAssertEqual(try file.shape("bf16"), [1, values.count])
        XCTAssertEqual(try file.shape("empty"), [0, 4])
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertEqual(try file.shape("scalar"), [])
        XCTAssertEqual(try file.floats("scalar"), [7])
        XCTAssertTrue(try file.floats("nan").allSatisfy(\.isNaN))
    }

    func testHalfRoundingByHand() throws {
        let ulpAtOne: Float = 1.0 / 1024  // F16 spacing on [1, 2)
        let inputs: [Float] = [
            1 + ulpAtOne / 2,          // tie → even (1)
            1 + 3 * ulpAtOne / 2,      // tie → even (1 + 2 ulp)
            1 + ulpAtOne * 0.5001,     // above the tie → 1 + ulp
            65519,                     // below the overflow threshold → 65504
            65520,                     // tie with 65536 → overflows to inf
            0x1p-25,                   // half the smallest subnormal: tie → 0
            0x1.8p-24,                 // 1.5 subnormal ulps: tie → 2 ulps
            0x1p-24,                   // smallest subnormal, exact
            -0x1.ffcp-15,              // 1023.5 subnormal ulps: tie → −2^-14, the smallest normal
        ]
        let expected: [Float] = [1, 1 + 2 * ulpAtOne, 1 + ulpAtOne, 65504, .infinity, 0, 0x1p-23, 0x1p-24, -0x1p-14]
        let file = try roundTrip { try $0.add("h", shape: [inputs.count], floats: inputs, as: .f16) }
        XCTAssertEqual(try file.floats("h"), expected)
    }

    func testBFloat16RoundingByHand() throws {
        let ulpAtOne: Float = 1.0 / 128  // BF16 spacing on [1, 2)
        let inputs: [Float] = [
            1 + ulpAtOne / 2,                 // tie → even (1)
            1 + 3 * ulpAtOne / 2,             // tie → even (1 + 2 ulp)
            1 + ulpAtOne * 0.51,              // above the tie → 1 + ulp
            .greatestFiniteMagnitude,         // rounds up past the largest BF16 → inf
            -0x1.c3p127,                      // tie between 0x1.c2 (odd) and 0x1.c4 (even)
            Float(bitPattern: 0x0001_1000),   // subnormal, exactly representable
            Float(bitPattern: 0x0001_8000),   // subnormal tie → even (0x0002_0000)
        ]
        let expected: [Float] = [1, 1 + 2 * ulpAtOne, 1 + ulpAtOne, .infinity, -0x1.c4p127,
                                 Float(bitPattern: 0x0001_0000), Float(bitPattern: 0x0002_0000)]
        let file = try roundTrip { try $0.add("b", shape: [inputs.count], floats: inputs, as: .bf16) }
        XCTAssertEqual(try file.floats("b").map(\.bitPattern), expected.map(\.bitPattern))
        XCTAssertTrue(Float16Conversion.float(fromBFloat16Bits: Float16Conversion.bfloat16Bits(from: .nan)).isNaN)
        XCTAssertTrue(Float16Conversion.float(fromBFloat16Bits: Float16Conversion.bfloat16Bits(from: Float(bitPattern: 0x7f80_0001))).isNaN)
    }

    /// The branch-free binary16 decoder agrees with Swift's Float16 for all 65536 bit patterns.
    func testHalfDecodingIsExactForEveryBitPattern() {
        let allBits = (0...UInt16.max).map { $0 }
        var decoded = [Float](repeating: 0, count: allBits.count)
        allBits.withUnsafeBytes { source in
            decoded.withUnsafeMutableBufferPointer { Float16Conversion.convertHalf(source.baseAddress!, to: $0) }
        }
        var mismatches = 0
        for bits in allBits {
            let reference = Float(Float16(bitPattern: bits))
            let value = decoded[Int(bits)]
            let same = reference.isNaN ? (value.isNaN && value.sign == reference.sign) : value.bitPattern == reference.bitPattern
            if !same { mismatches += 1 }
            // Encoding back gives the same bits for every non-NaN.
            if !reference.isNaN, Float16Conversion.halfBits(from: value) != bits { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0)
    }

    /// The branch-free binary16 encoder agrees with Swift's Float16 conversion (round to nearest even) on a
    /// sweep over all float exponents and on every rounding boundary near the F16 range limits.
    func testHalfEncodingMatchesFloat16() {
        var inputs: [Float] = []
        for pattern in stride(from: UInt64(0), through: 0xffff_ffff, by: 4093) { inputs.append(Float(bitPattern: UInt32(pattern))) }
        for base: UInt32 in [0x3880_0000, 0x4780_0000, 0x477f_e000, 0x3300_0000, 0x3380_0000, 0x0000_0000] {
            for delta: UInt32 in 0..<4097 {
                inputs.append(Float(bitPattern: base &+ delta))
                inputs.append(-Float(bitPattern: base &- delta))
            }
        }
        var mismatches = 0
        for value in inputs where !value.isNaN {
            if Float16Conversion.halfBits(from: value) != Float16(value).bitPattern { mismatches += 1 }
        }
        XCTAssertEqual(mismatches, 0)
        XCTAssertTrue(Float(Float16(bitPattern: Float16Conversion.halfBits(from: .nan))).isNaN)
        XCTAssertTrue(Float(Float16(bitPattern: Float16Conversion.halfBits(from: -.signalingNaN))).isNaN)
        XCTAssertEqual(Float16Conversion.halfBits(from: [1, -2, 65504]), [0x3c00, 0xc000, 0x7bff])
    }

    // MARK: Writer checks and atomicity

    func testWriterRejectsBadInput() {
        var writer = SafetensorsWriter()
        XCTAssertThrowsError(try writer.add("a", shape: [2, 2], floats: [1, 2, 3]))
        XCTAssertThrowsError(try writer.add("a", shape: [-1], floats: []))
        XCTAssertThrowsError(try writer.add("__metadata__", shape: [1], floats: [1]))
        XCTAssertThrowsError(try writer.add("a", shape: [1], floats: [1], as: .i64))
        XCTAssertNoThrow(try writer.add("a", shape: [1], floats: [1]))
        XCTAssertThrowsError(try writer.add("a", shape: [1], int64s: [1])) { error in
            XCTAssertTrue(error is SafetensorsError)
            XCTAssertTrue("\(error)".contains("\"a\""), "\(error)")
        }
    }

    func testAtomicWriteLeavesNoTemporaryFile() throws {
        let url = temporaryDirectory.appendingPathComponent("model.safetensors")
        var first = SafetensorsWriter()
        try first.add("w", shape: [2], floats: [1, 2])
        try first.write(to: url)
        var second = SafetensorsWriter()
        try second.add("w", shape: [3], floats: [3, 4, 5])
        try second.write(to: url)  // replaces the file in place
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory.path), ["model.safetensors"])
        XCTAssertEqual(try SafetensorsFile(contentsOf: url).floats("w"), [3, 4, 5])
        // Header padded so the data starts on an 8-byte boundary.
        let bytes = try Data(contentsOf: url)
        let headerLength = bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        XCTAssertEqual(headerLength % 8, 0)
        XCTAssertEqual(bytes.count, 8 + Int(headerLength) + 12)

        let missingDirectory = temporaryDirectory.appendingPathComponent("absent/model.safetensors")
        XCTAssertThrowsError(try second.write(to: missingDirectory)) { XCTAssertTrue($0 is SafetensorsError) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory.path), ["model.safetensors"])
    }

    // MARK: Corrupt files

    /// Writes a file: the declared header length, `header`, then `bufferLength` zero bytes.
    private func file(header: [UInt8], bufferLength: Int, declaredLength: UInt64? = nil) throws -> URL {
        var bytes = Data()
        withUnsafeBytes(of: (declaredLength ?? UInt64(header.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        bytes.append(contentsOf: [UInt8](repeating: 0, count: bufferLength))
        let url = temporaryDirectory.appendingPathComponent("corrupt-\(UUID().uuidString).safetensors")
        try bytes.write(to: url)
        return url
    }

    private func assertRejected(header: String, bufferLength: Int, mentions fragments: [String],
                                file testFile: StaticString = #filePath, line: UInt = #line) throws {
        try assertRejected(try file(header: Array(header.utf8), bufferLength: bufferLength), mentions: fragments, file: testFile, line: line)
    }

    private func assertRejected(_ url: URL, mentions fragments: [String], file testFile: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertThrowsError(try SafetensorsFile(contentsOf: url), file: testFile, line: line) { error in
            guard let error = error as? SafetensorsError else {
                return XCTFail("not a SafetensorsError: \(error)", file: testFile, line: line)
            }
            XCTAssertEqual(error.path, url.path, file: testFile, line: line)
            for fragment in fragments + [url.path] {
                XCTAssertTrue(error.description.contains(fragment), "'\(error)' lacks '\(fragment)'", file: testFile, line: line)
            }
        }
    }

    func testValidHandMadeFileIsAccepted() throws {
        let url = try file(header: Array(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}"#.utf8), bufferLength: 11)
        let parsed = try SafetensorsFile(contentsOf: url)
        XCTAssertEqual(parsed.names, ["a", "b"])
        XCTAssertEqual(try parsed.floats("a"), [0, 0])
        XCTAssertThrowsError(try parsed.floats("b")) { XCTAssertTrue("\($0)".contains("U8")) }
        XCTAssertThrowsError(try parsed.floats("c")) { XCTAssertTrue("\($0)".contains("\"c\"")) }
        XCTAssertThrowsError(try parsed.shape("c")) { XCTAssertTrue($0 is SafetensorsError) }
    }

    func testRejectsBadHeaderLength() throws {
        let header = Array(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8)
        try assertRejected(try file(header: header, bufferLength: 4, declaredLength: UInt64(header.count + 5)),
                           mentions: ["header length", "offset 0"])  // larger than the file
        try assertRejected(try file(header: header, bufferLength: 4, declaredLength: 1 << 40), mentions: ["header length", "limit"])
        try assertRejected(try file(header: header, bufferLength: 4, declaredLength: .max), mentions: ["header length"])
        let short = temporaryDirectory.appendingPathComponent("short.safetensors")
        try Data([1, 2, 3]).write(to: short)
        try assertRejected(short, mentions: ["3 bytes"])
    }

    func testRejectsInvalidJSONAndUTF8() throws {
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#, bufferLength: 4, mentions: ["JSON", "offset"])
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}} x"#, bufferLength: 4, mentions: ["JSON"])
        try assertRejected(header: #"["a"]"#, bufferLength: 0, mentions: ["array"])
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, bufferLength: 4, mentions: ["\"a\"", "shape"])
        try assertRejected(header: String(repeating: "[", count: 1000), bufferLength: 0, mentions: ["nested"])
        var bytes = Array(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf8)
        bytes[2] = 0xFF  // the tensor name is no longer UTF-8
        try assertRejected(try file(header: bytes, bufferLength: 4), mentions: ["UTF-8"])
        try assertRejected(header: #"{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, bufferLength: 4,
                           mentions: ["__metadata__", "\"k\""])
    }

    func testRejectsBadDTypeAndShape() throws {
        try assertRejected(header: #"{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}"#, bufferLength: 4, mentions: ["\"a\"", "F33"])
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, bufferLength: 4, mentions: ["\"a\"", "negative"])
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296,4],"data_offsets":[0,4]}}"#, bufferLength: 4,
                           mentions: ["\"a\"", "overflow"])
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}"#, bufferLength: 4, mentions: ["\"a\""])
        try assertRejected(header: #"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, bufferLength: 4, mentions: ["\"a\"", "shape"])
    }

    func testRejectsBadOffsets() throws {
        // Size mismatch: 3 floats need 12 bytes.
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, bufferLength: 8, mentions: ["\"a\"", "[0, 8]", "12"])
        // Out of range of a 4-byte buffer.
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, bufferLength: 4, mentions: ["\"a\"", "[0, 8]"])
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, bufferLength: 4, mentions: ["\"a\""])
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, bufferLength: 4, mentions: ["\"a\"", "data_offsets"])
        // Overlap.
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                           bufferLength: 12, mentions: ["\"b\"", "overlaps", "\"a\""])
        // Gap between tensors, and trailing bytes.
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                           bufferLength: 12, mentions: ["gap", "4..<8", "\"b\""])
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, bufferLength: 8, mentions: ["trailing"])
    }

    func testRejectsDuplicateNames() throws {
        try assertRejected(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                           bufferLength: 8, mentions: ["duplicate", "\"a\""])
    }

    func testRejectsTruncatedFile() throws {
        var writer = SafetensorsWriter()
        try writer.add("weight", shape: [4, 4], floats: (0..<16).map(Float.init))
        let bytes = writer.serialized()
        let url = temporaryDirectory.appendingPathComponent("truncated.safetensors")
        try bytes.prefix(bytes.count - 3).write(to: url)
        try assertRejected(url, mentions: ["\"weight\"", "truncated"])
        try bytes.prefix(20).write(to: url)  // cut inside the header
        try assertRejected(url, mentions: ["header length"])
    }
}
