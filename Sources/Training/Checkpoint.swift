// Training checkpoints: every tensor and counter needed to resume, in one file written atomically.
import Foundation
import NN
import TensorCore

/// One safetensors file: tensors under `section/key`, counters and RNG state in its metadata.
/// Written to a temporary name and renamed, so a kill at any moment leaves the previous
/// checkpoint intact.
public struct Checkpoint {
    public var tensors: [String: Tensor] = [:]
    public var metadata: [String: String] = [:]

    public init() {}

    public static let fileName = "checkpoint.safetensors"

    public mutating func add(section: String, _ named: [(key: String, parameter: Parameter)]) {
        for (key, parameter) in named { tensors["\(section)/\(key)"] = parameter.value }
    }

    public mutating func add(section: String, _ named: [String: Tensor]) {
        for (key, tensor) in named { tensors["\(section)/\(key)"] = tensor }
    }

    /// The tensors of one section, keyed without the section prefix.
    public func section(_ name: String) -> [String: Tensor] {
        let prefix = name + "/"
        var result: [String: Tensor] = [:]
        for (key, tensor) in tensors where key.hasPrefix(prefix) { result[String(key.dropFirst(prefix.count))] = tensor }
        return result
    }

    /// Copies a section into parameters: every parameter present with its shape, and no
    /// tensor in the section that no parameter takes.
    public func restore(section: String, into named: [(key: String, parameter: Parameter)], file: String) throws {
        let stored = self.section(section)
        for (key, parameter) in named {
            guard let tensor = stored[key] else { throw CheckpointError.missing("\(file): no tensor \(section)/\(key)") }
            guard tensor.shape == parameter.shape else {
                throw CheckpointError.missing("\(file): tensor \(section)/\(key) has shape \(tensor.shape), expected \(parameter.shape)")
            }
            try parameter.assign(tensor)
        }
        let known = Set(named.map(\.key))
        if let extra = stored.keys.sorted().first(where: { !known.contains($0) }) {
            throw CheckpointError.missing("\(file): tensor \(section)/\(extra) matches no parameter")
        }
    }

    public func write(to url: URL) throws {
        var writer = SafetensorsWriter()
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            try writer.add(name, shape: tensor.shape, floats: tensor.values)
        }
        try writer.write(to: url, metadata: metadata)
    }

    public static func read(from url: URL) throws -> Checkpoint {
        try Checkpoint(file: SafetensorsFile(contentsOf: url))
    }

    /// Every tensor of a parsed file (as float32) and its metadata.
    public init(file: SafetensorsFile) throws {
        metadata = file.metadata
        for name in file.names { tensors[name] = try Tensor(shape: file.shape(name), values: file.floats(name)) }
    }

    public func integer(_ key: String) throws -> Int {
        guard let text = metadata[key], let value = Int(text) else { throw CheckpointError.missing("checkpoint metadata has no integer '\(key)'") }
        return value
    }

    public mutating func setJSON<T: Encodable>(_ key: String, _ value: T) throws {
        metadata[key] = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    public func json<T: Decodable>(_ key: String, as type: T.Type) throws -> T {
        guard let text = metadata[key] else { throw CheckpointError.missing("checkpoint metadata has no '\(key)'") }
        return try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

public enum CheckpointError: Error, CustomStringConvertible {
    case missing(String)
    public var description: String {
        switch self { case .missing(let s): return "invalid checkpoint: \(s)" }
    }
}

extension JSONEncoder {
    /// Keys sorted, so equal values encode to equal text.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}
