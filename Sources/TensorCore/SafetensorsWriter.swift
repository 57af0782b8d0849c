// Writer for the safetensors format: tensors sorted by name, 8-byte-aligned data, atomic temp-file + rename.

import FileIO
import Foundation

/// Collects tensors and writes them as one safetensors file, laid out as the reference library lays it out:
/// compact JSON header padded with spaces to a multiple of 8 bytes, then the tensors back to back.
public struct SafetensorsWriter {
    private struct Pending {
        let dtype: SafetensorsDType
        let shape: [Int]
        let bytes: [UInt8]
    }

    private var tensors: [String: Pending] = [:]

    public init() {}

    public var names: [String] { tensors.keys.sorted() }

    private func checked(_ name: String, shape: [Int], count: Int) throws {
        func failure(_ reason: String) -> SafetensorsError { SafetensorsError(path: "<writer>", reason: reason) }
        guard name != "__metadata__" else { throw failure("\"__metadata__\" is reserved and cannot name a tensor") }
        guard tensors[name] == nil else { throw failure("tensor \"\(name)\" added twice") }
        var product = 1
        for size in shape {
            guard size >= 0 else { throw failure("tensor \"\(name)\": negative dimension in shape \(shape)") }
            let (next, overflow) = product.multipliedReportingOverflow(by: size)
            guard !overflow else { throw failure("tensor \"\(name)\": shape \(shape) element count overflows") }
            product = next
        }
        guard product == count else {
            throw failure("tensor \"\(name)\": shape \(shape) holds \(product) elements but \(count) values were given")
        }
    }

    /// Adds a float tensor stored as F32, F16 or BF16 (16-bit formats round to nearest even).
    public mutating func add(_ name: String, shape: [Int], floats: [Float], as dtype: SafetensorsDType = .f32) throws {
        try checked(name, shape: shape, count: floats.count)
        let bytes: [UInt8]
        switch dtype {
        case .f32:
            bytes = floats.withUnsafeBytes { [UInt8]($0) }
        case .f16:
            bytes = Float16Conversion.halfBits(from: floats).withUnsafeBytes { [UInt8]($0) }
        case .bf16:
            bytes = Float16Conversion.bfloat16Bits(from: floats).withUnsafeBytes { [UInt8]($0) }
        default:
            throw SafetensorsError(path: "<writer>", reason: "tensor \"\(name)\": cannot store floats as \(dtype.rawValue) (supported: F32, F16, BF16)")
        }
        tensors[name] = Pending(dtype: dtype, shape: shape, bytes: bytes)
    }

    /// Adds an I64 tensor.
    public mutating func add(_ name: String, shape: [Int], int64s: [Int64]) throws {
        try checked(name, shape: shape, count: int64s.count)
        tensors[name] = Pending(dtype: .i64, shape: shape, bytes: int64s.withUnsafeBytes { [UInt8]($0) })
    }

    /// The complete file contents.
    public func serialized(metadata: [String: String] = [:]) -> Data {
        var header = "{"
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(Self.quoted($0)):\(Self.quoted(metadata[$0] ?? ""))" }
            members.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        let ordered = names
        for name in ordered {
            guard let tensor = tensors[name] else { continue }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            members.append("\(Self.quoted(name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + tensor.bytes.count)]}")
            offset += tensor.bytes.count
        }
        header += members.joined(separator: ",") + "}"
        var headerBytes = Array(header.utf8)
        headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8))

        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for name in ordered {
            if let tensor = tensors[name] { data.append(contentsOf: tensor.bytes) }
        }
        return data
    }

    /// Writes the file through OutputFile: atomically over a regular file, through a device or link.
    public func write(to url: URL, metadata: [String: String] = [:]) throws {
        do { try OutputFile.write(serialized(metadata: metadata), to: url) } catch let error as OutputFileError {
            throw SafetensorsError(path: error.path, reason: "write failed: \(error.reason)")
        }
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                result += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
