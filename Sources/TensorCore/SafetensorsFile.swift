// Reader for the safetensors format (huggingface/safetensors): validated header, typed tensor access.

import FileIO
import Foundation

/// A safetensors file, read and fully validated at `init`. Tensor bytes stay in the (memory-mapped) file
/// data and are converted to Swift arrays on request.
public struct SafetensorsFile {
    /// The largest header the reference library accepts.
    public static let maximumHeaderLength = 100_000_000

    struct Entry {
        let dtype: SafetensorsDType
        let shape: [Int]
        let begin: Int  // offsets relative to the data buffer
        let end: Int
    }

    public let path: String
    public let metadata: [String: String]
    private let data: Data
    private let bufferStart: Int  // file offset of the data buffer: 8 + header length
    private let entries: [String: Entry]

    /// Tensor names, sorted.
    public var names: [String] { entries.keys.sorted() }

    /// Reads the file at `url` (memory-mapped) and validates header, dtypes, shapes and offsets.
    public init(contentsOf url: URL) throws {
        let path = url.path
        let data: Data
        do {
            // A folder, FIFO or device is refused by name before mapping (a FIFO would block the read).
            try InputFile.requireRegularFile(url)
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch let error as InputError {
            throw SafetensorsError(path: path, reason: error.reason)
        } catch {
            throw SafetensorsError(path: path, reason: "cannot read the file: \(error.localizedDescription)")
        }
        try self.init(data: data, path: path)
    }

    /// Parses safetensors bytes already in memory; `path` is used in error messages.
    public init(data: Data, path: String) throws {
        func failure(_ reason: String) -> SafetensorsError { SafetensorsError(path: path, reason: reason) }

        guard data.count >= 8 else {
            throw failure("file is \(data.count) bytes, too short for the 8-byte header length")
        }
        let headerLength64 = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength64 <= UInt64(Self.maximumHeaderLength) else {
            throw failure("header length \(headerLength64) at offset 0 exceeds the \(Self.maximumHeaderLength)-byte limit")
        }
        let headerLength = Int(headerLength64)
        guard 8 + headerLength <= data.count else {
            throw failure("header length \(headerLength) at offset 0 runs past the end of the \(data.count)-byte file (truncated?)")
        }
        let headerBytes = [UInt8](data[data.startIndex + 8 ..< data.startIndex + 8 + headerLength])
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw failure("header (offsets 8..<\(8 + headerLength)) is not valid UTF-8")
        }
        let json: SafetensorsJSON
        do {
            json = try SafetensorsJSONParser.parse(headerBytes)
        } catch let error as SafetensorsJSONError {
            throw failure("invalid JSON header at file offset \(8 + error.offset): \(error.message)")
        }
        guard case .object(let members) = json else {
            throw failure("header is a JSON \(json.kindName), expected an object")
        }

        let bufferLength = data.count - 8 - headerLength
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (key, value) in members {
            if key == "__metadata__" {
                metadata = try Self.parseMetadata(value, failure: failure)
            } else {
                entries[key] = try Self.parseEntry(name: key, value, bufferLength: bufferLength, bufferStart: 8 + headerLength, failure: failure)
            }
        }
        try Self.checkCoverage(entries, bufferLength: bufferLength, bufferStart: 8 + headerLength, failure: failure)

        self.path = path
        self.metadata = metadata
        self.data = data
        self.bufferStart = 8 + headerLength
        self.entries = entries
    }

    private static func parseMetadata(_ value: SafetensorsJSON, failure: (String) -> SafetensorsError) throws -> [String: String] {
        guard case .object(let pairs) = value else {
            throw failure("\"__metadata__\" is a JSON \(value.kindName), expected an object of strings")
        }
        var metadata: [String: String] = [:]
        for (key, item) in pairs {
            guard case .string(let text) = item else {
                throw failure("\"__metadata__\" key \"\(key)\" is a JSON \(item.kindName), expected a string")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func nonNegativeInteger(_ value: SafetensorsJSON, what: String, failure: (String) -> SafetensorsError) throws -> Int {
        guard case .number(let literal) = value else { throw failure("\(what) is a JSON \(value.kindName), expected an integer") }
        if literal.hasPrefix("-") { throw failure("\(what) is negative (\(literal))") }
        guard let integer = Int(literal) else { throw failure("\(what) (\(literal)) is not an integer that fits in 64 bits") }
        return integer
    }

    private static func parseEntry(name: String, _ value: SafetensorsJSON, bufferLength: Int, bufferStart: Int,
                                   failure: (String) -> SafetensorsError) throws -> Entry {
        guard case .object(let fields) = value else {
            throw failure("tensor \"\(name)\": entry is a JSON \(value.kindName), expected an object")
        }
        var dtypeValue: SafetensorsJSON?, shapeValue: SafetensorsJSON?, offsetsValue: SafetensorsJSON?
        for (key, field) in fields {
            switch key {
            case "dtype": dtypeValue = field
            case "shape": shapeValue = field
            case "data_offsets": offsetsValue = field
            default: break  // the reference library ignores unknown fields too
            }
        }
        guard let dtypeValue, let shapeValue, let offsetsValue else {
            throw failure("tensor \"\(name)\": entry needs \"dtype\", \"shape\" and \"data_offsets\"")
        }
        guard case .string(let dtypeName) = dtypeValue else {
            throw failure("tensor \"\(name)\": dtype is a JSON \(dtypeValue.kindName), expected a string")
        }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
            throw failure("tensor \"\(name)\": unknown dtype \"\(dtypeName)\"")
        }
        guard case .array(let dimensions) = shapeValue else {
            throw failure("tensor \"\(name)\": shape is a JSON \(shapeValue.kindName), expected an array")
        }
        var shape: [Int] = []
        var elementCount = 1
        for (axis, dimension) in dimensions.enumerated() {
            let size = try nonNegativeInteger(dimension, what: "tensor \"\(name)\": shape dimension \(axis)", failure: failure)
            let (product, overflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !overflow else { throw failure("tensor \"\(name)\": shape \(dimensions.count)-D element count overflows 64 bits") }
            elementCount = product
            shape.append(size)
        }
        let (byteCount, overflow) = elementCount.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw failure("tensor \"\(name)\": shape \(shape) of \(dtype.rawValue) needs more bytes than fit in 64 bits") }

        guard case .array(let offsets) = offsetsValue, offsets.count == 2 else {
            throw failure("tensor \"\(name)\": data_offsets must be an array [begin, end]")
        }
        let begin = try nonNegativeInteger(offsets[0], what: "tensor \"\(name)\": data_offsets begin", failure: failure)
        let end = try nonNegativeInteger(offsets[1], what: "tensor \"\(name)\": data_offsets end", failure: failure)
        guard begin <= end else {
            throw failure("tensor \"\(name)\": data_offsets [\(begin), \(end)] end before begin")
        }
        guard end <= bufferLength else {
            throw failure("tensor \"\(name)\": data_offsets [\(begin), \(end)] (file offsets \(bufferStart + begin)..<\(bufferStart + end)) run past the \(bufferLength)-byte data buffer (truncated file?)")
        }
        guard end - begin == byteCount else {
            throw failure("tensor \"\(name)\": data_offsets [\(begin), \(end)] span \(end - begin) bytes but shape \(shape) of \(dtype.rawValue) needs \(byteCount)")
        }
        return Entry(dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// The format requires the tensors to cover the data buffer exactly: no gaps, no overlaps.
    private static func checkCoverage(_ entries: [String: Entry], bufferLength: Int, bufferStart: Int,
                                      failure: (String) -> SafetensorsError) throws {
        let ordered = entries.sorted { ($0.value.begin, $0.value.end, $0.key) < ($1.value.begin, $1.value.end, $1.key) }
        var covered = 0
        var previousName: String?
        for (name, entry) in ordered {
            if entry.begin < covered, let previousName {
                throw failure("tensor \"\(name)\" (data_offsets [\(entry.begin), \(entry.end)]) overlaps tensor \"\(previousName)\" which ends at \(covered)")
            }
            if entry.begin > covered {
                throw failure("gap in the data buffer: bytes \(covered)..<\(entry.begin) (file offset \(bufferStart + covered)) belong to no tensor, before tensor \"\(name)\"")
            }
            covered = entry.end
            previousName = name
        }
        if covered != bufferLength {
            throw failure("data buffer is \(bufferLength) bytes but the tensors cover only \(covered) (trailing bytes from file offset \(bufferStart + covered))")
        }
    }

    // MARK: Access

    public func contains(_ name: String) -> Bool { entries[name] != nil }

    func entry(_ name: String) throws -> Entry {
        guard let entry = entries[name] else { throw SafetensorsError(path: path, reason: "no tensor named \"\(name)\"") }
        return entry
    }

    public func dtype(_ name: String) throws -> SafetensorsDType { try entry(name).dtype }

    public func shape(_ name: String) throws -> [Int] { try entry(name).shape }

    /// Element count of a tensor (product of its shape).
    public func count(_ name: String) throws -> Int {
        let entry = try entry(name)
        return (entry.end - entry.begin) / entry.dtype.byteSize
    }

    /// Calls `body` with the raw little-endian bytes of a tensor.
    public func withRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let entry = try entry(name)
        return try data.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[(bufferStart + entry.begin)..<(bufferStart + entry.end)]))
        }
    }

    /// The tensor's values as Float: F32 copied, F16/BF16 converted exactly, I64 rounded to the nearest Float.
    public func floats(_ name: String) throws -> [Float] {
        let entry = try entry(name)
        let count = (entry.end - entry.begin) / entry.dtype.byteSize
        switch entry.dtype {
        case .f32, .f16, .bf16, .i64: break
        default:
            throw SafetensorsError(path: path, reason: "tensor \"\(name)\" has dtype \(entry.dtype.rawValue), which does not convert to Float (supported: F32, F16, BF16, I64)")
        }
        return try withRawBytes(name) { bytes in
            [Float](unsafeUninitializedCapacity: count) { output, initialized in
                guard let source = bytes.baseAddress, let target = output.baseAddress else { initialized = 0; return }
                switch entry.dtype {
                case .f32: UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: count * 4)
                case .f16: Float16Conversion.convertHalf(source, to: output)
                case .bf16: Float16Conversion.convertBFloat16(source, to: output)
                default:
                    for index in 0..<count { target[index] = Float(source.loadUnaligned(fromByteOffset: 8 * index, as: Int64.self)) }
                }
                initialized = count
            }
        }
    }

    /// The tensor's values as Int64: I64 copied; F32/F16/BF16 accepted when every value is an integer.
    public func int64s(_ name: String) throws -> [Int64] {
        let entry = try entry(name)
        let count = (entry.end - entry.begin) / entry.dtype.byteSize
        switch entry.dtype {
        case .i64:
            return try withRawBytes(name) { bytes in
                [Int64](unsafeUninitializedCapacity: count) { output, initialized in
                    if let source = bytes.baseAddress, let target = output.baseAddress {
                        UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: count * 8)
                    }
                    initialized = count
                }
            }
        case .f32, .f16, .bf16:
            let values = try floats(name)
            var integers = [Int64](repeating: 0, count: count)
            for (index, value) in values.enumerated() {
                guard let integer = Int64(exactly: value) else {
                    throw SafetensorsError(path: path, reason: "tensor \"\(name)\" (\(entry.dtype.rawValue)) element \(index) is \(value), not an integer")
                }
                integers[index] = integer
            }
            return integers
        default:
            throw SafetensorsError(path: path, reason: "tensor \"\(name)\" has dtype \(entry.dtype.rawValue), which does not convert to Int64 (supported: I64, or integral F32/F16/BF16)")
        }
    }
}
