// Writes a safetensors file tensor by tensor, so a converted checkpoint is never held whole in memory.

import Foundation

/// A safetensors file laid out exactly as `SafetensorsWriter` lays it out (sorted names, header
/// padded to 8 bytes), but each tensor's bytes are produced on demand while the file is written.
public struct SafetensorsStreamWriter {
    /// One tensor to write: its bytes come from `bytes`, called once, in name order.
    public struct Item {
        public let name: String
        public let dtype: SafetensorsDType
        public let shape: [Int]
        public let bytes: () throws -> [UInt8]

        public init(name: String, dtype: SafetensorsDType, shape: [Int], bytes: @escaping () throws -> [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        var byteCount: Int { shape.reduce(1, *) * dtype.byteSize }
    }

    /// Writes `items` to `url` atomically (temporary file + rename).
    public static func write(_ items: [Item], metadata: [String: String] = [:], to url: URL) throws {
        let path = url.path
        let ordered = items.sorted { $0.name < $1.name }
        var seen = Set<String>()
        for item in ordered where !seen.insert(item.name).inserted {
            throw SafetensorsError(path: path, reason: "tensor \"\(item.name)\" written twice")
        }
        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(SafetensorsWriter.quoted($0)):\(SafetensorsWriter.quoted(metadata[$0] ?? ""))" }
            members.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for item in ordered {
            let shape = item.shape.map(String.init).joined(separator: ",")
            members.append("\(SafetensorsWriter.quoted(item.name)):{\"dtype\":\"\(item.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + item.byteCount)]}")
            offset += item.byteCount
        }
        var header = Array(("{" + members.joined(separator: ",") + "}").utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw SafetensorsError(path: path, reason: "cannot create temporary file \(temporary.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            var length = Data()
            withUnsafeBytes(of: UInt64(header.count).littleEndian) { length.append(contentsOf: $0) }
            try handle.write(contentsOf: length)
            try handle.write(contentsOf: Data(header))
            for item in ordered {
                let bytes = try item.bytes()
                guard bytes.count == item.byteCount else {
                    throw SafetensorsError(path: path, reason: "tensor \"\(item.name)\": \(bytes.count) bytes given for shape \(item.shape) of \(item.dtype.rawValue) (\(item.byteCount) expected)")
                }
                try handle.write(contentsOf: Data(bytes))
            }
            try handle.synchronize()
            guard rename(temporary.path, path) == 0 else {
                throw SafetensorsError(path: path, reason: "cannot rename \(temporary.path) into place: \(String(cString: strerror(errno)))")
            }
        } catch let error as SafetensorsError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw SafetensorsError(path: path, reason: "write failed: \(error.localizedDescription)")
        }
    }
}
