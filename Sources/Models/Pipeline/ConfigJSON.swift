// Reading and writing config JSON files the way diffusers writes them (sorted keys, indented).
import Foundation
import TensorCore

public enum ConfigJSON {
    /// Decodes `url` as `T`; a missing file or bad JSON is an error naming the path.
    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        guard FileManager.default.fileExists(atPath: url.path) else { throw PipelineFolderError.missingFile(url.path) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw PipelineFolderError.invalidJSON(path: url.path, reason: "cannot read: \(error.localizedDescription)")
        }
        do { return try JSONDecoder().decode(T.self, from: data) } catch let error as PipelineFolderError {
            throw error
        } catch let error as DecodingError {
            throw PipelineFolderError.invalidJSON(path: url.path, reason: describe(error))
        } catch {
            throw PipelineFolderError.invalidJSON(path: url.path, reason: "\(error)")
        }
    }

    /// Encodes `value` as a JSON object, adds `extra` entries (e.g. `_class_name`) and writes it
    /// atomically with sorted keys, as diffusers' `save_config` does.
    public static func write<T: Encodable>(_ value: T, extra: [String: ConfigValue] = [:], to url: URL) throws {
        do {
            let encoded = try JSONEncoder().encode(value)
            var object = try JSONDecoder().decode([String: ConfigValue].self, from: encoded)
            for (key, v) in extra { object[key] = v }
            try write(object: object, to: url)
        } catch let error as PipelineFolderError {
            throw error
        } catch {
            throw PipelineFolderError.writeFailed(path: url.path, reason: "\(error)")
        }
    }

    /// Writes a JSON object atomically with sorted keys and two-space indentation.
    public static func write(object: [String: ConfigValue], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            var data = try encoder.encode(object)
            data.append(contentsOf: Array("\n".utf8))
            try data.write(to: url, options: .atomic)
        } catch {
            throw PipelineFolderError.writeFailed(path: url.path, reason: "\(error.localizedDescription)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : " at \(p)"
        }
        switch error {
        case .typeMismatch(_, let c): return "wrong type\(path(c)): \(c.debugDescription)"
        case .valueNotFound(_, let c): return "missing value\(path(c)): \(c.debugDescription)"
        case .keyNotFound(let key, let c): return "missing key \(key.stringValue)\(path(c))"
        case .dataCorrupted(let c): return "\(c.debugDescription)\(path(c))"
        @unknown default: return "\(error)"
        }
    }
}
