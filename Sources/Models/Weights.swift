// Loading and saving a module's parameters from/to safetensors, strictly by dotted key.
import Foundation
import NN
import TensorCore

public enum WeightsError: Error, CustomStringConvertible {
    case missingKeys([String], file: String)
    case unexpectedKeys([String], file: String)
    case shapeMismatch(key: String, expected: [Int], found: [Int], file: String)
    /// NaN or ±infinity in a weight: every output would be NaN (a black image), so it is refused at load.
    case nonFinite(key: String, index: Int, value: Float, file: String)

    public var description: String {
        switch self {
        case .missingKeys(let keys, let file):
            return "\(file): missing \(keys.count) weight(s): \(keys.prefix(8).joined(separator: ", "))\(keys.count > 8 ? ", …" : "")"
        case .unexpectedKeys(let keys, let file):
            return "\(file): unexpected \(keys.count) weight(s): \(keys.prefix(8).joined(separator: ", "))\(keys.count > 8 ? ", …" : "")"
        case .shapeMismatch(let key, let expected, let found, let file):
            return "\(file): weight \(key) has shape \(found), expected \(expected)"
        case .nonFinite(let key, let index, let value, let file):
            return "\(file): weight \(key) holds \(value) at flat index \(index); a model's weights must be finite"
        }
    }
}

extension WeightsError {
    /// Throws `WeightsError.nonFinite` at the first NaN or infinity of a weight's values.
    public static func requireFinite(_ values: [Float], key: String, file: String) throws {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw WeightsError.nonFinite(key: key, index: bad, value: values[bad], file: file)
        }
    }
}

extension Tensor {
    /// The named tensor of a safetensors file, converted to float32.
    public init(_ file: SafetensorsFile, _ name: String) throws {
        try self.init(shape: file.shape(name), values: file.floats(name))
    }
}

extension Module {
    /// Copies every parameter from `file`, where keys are `keyPrefix + dotted key`. Strict:
    /// a missing, unexpected or mis-shaped key is an error naming it. `ignoredKeys` (full file
    /// names) are buffers some checkpoints carry that hold no parameter (CLIP's `position_ids`).
    public func loadWeights(from file: SafetensorsFile, keyPrefix: String = "", ignoring ignoredKeys: Set<String> = []) throws {
        let expected = namedParameters()
        let fileKeys = Set(file.names.filter { $0.hasPrefix(keyPrefix) && !ignoredKeys.contains($0) }.map { String($0.dropFirst(keyPrefix.count)) })
        let missing = expected.map(\.key).filter { !fileKeys.contains($0) }
        if !missing.isEmpty { throw WeightsError.missingKeys(missing.map { keyPrefix + $0 }, file: file.path) }
        let known = Set(expected.map(\.key))
        let unexpected = fileKeys.filter { !known.contains($0) }.sorted()
        if !unexpected.isEmpty { throw WeightsError.unexpectedKeys(unexpected.map { keyPrefix + $0 }, file: file.path) }
        for (key, parameter) in expected {
            let shape = try file.shape(keyPrefix + key)
            guard shape == parameter.shape else {
                throw WeightsError.shapeMismatch(key: keyPrefix + key, expected: parameter.shape, found: shape, file: file.path)
            }
            let values = try file.floats(keyPrefix + key)
            try WeightsError.requireFinite(values, key: keyPrefix + key, file: file.path)
            try parameter.assign(Tensor(shape: shape, values: values))
        }
    }

    /// Writes every parameter under `keyPrefix + dotted key` (atomically).
    public func saveWeights(to url: URL, keyPrefix: String = "", dtype: SafetensorsDType = .f32,
                            metadata: [String: String] = ["format": "pt"]) throws {
        var writer = SafetensorsWriter()
        for (key, parameter) in namedParameters() {
            try writer.add(keyPrefix + key, shape: parameter.shape, floats: parameter.value.values, as: dtype)
        }
        try writer.write(to: url, metadata: metadata)
    }
}
