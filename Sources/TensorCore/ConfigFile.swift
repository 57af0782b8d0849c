// Reading and writing config JSON files the way diffusers writes them (sorted keys, indented),
// with every failure a ConfigError that names the file and the key.
import FileIO
import Foundation

public enum ConfigFile {
    /// The diffusers version Diffuse writes into every config it saves (and is checked against).
    public static let diffusersVersion = "0.39.0"

    /// Where decoders find the path of the file being decoded (for error messages).
    public static let fileKey = CodingUserInfoKey(rawValue: "diffuse.configFile")!

    /// Decodes the JSON file at `url` as `T`.
    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data: Data
        do { data = try InputFile.read(url) } catch let error as InputError {
            throw ConfigError(file: url.path, reason: error.reason)
        }
        return try decode(type, from: data, file: url.path)
    }

    /// Decodes JSON text as `T`. Python's `json` writes `Infinity`, `-Infinity` and `NaN`
    /// bare, which strict JSON parsers reject, so those tokens are accepted too.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, file: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.userInfo[fileKey] = file
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return try decoder.decode(T.self, from: quotingNonFiniteNumbers(data))
        } catch {
            throw configError(error, file: file, key: nil)
        }
    }

    /// Encodes `value` as a JSON object, adds `extra` entries (e.g. `_class_name`) and writes it
    /// atomically with sorted keys, as diffusers' `save_config` does.
    public static func write<T: Encodable>(_ value: T, extra: [String: ConfigValue] = [:], to url: URL) throws {
        var object: [String: ConfigValue]
        do {
            object = try JSONDecoder().decode([String: ConfigValue].self, from: JSONEncoder().encode(value))
        } catch {
            throw ConfigError(file: url.path, reason: "cannot encode \(T.self): \(error)")
        }
        for (key, v) in extra { object[key] = v }
        try write(object: object, to: url)
    }

    /// Writes a JSON object atomically with sorted keys and two-space indentation.
    public static func write(object: [String: ConfigValue], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            var data = try encoder.encode(object)
            data.append(contentsOf: Array("\n".utf8))
            try OutputFile.write(data, to: url)
        } catch let error as OutputFileError {
            throw ConfigError(file: url.path, reason: error.reason)
        } catch {
            throw ConfigError(file: url.path, reason: "cannot encode: \(error)")
        }
    }

    /// Any decoding failure as a ConfigError; the key is the coding path where known.
    static func configError(_ error: Error, file: String, key: String?) -> ConfigError {
        if let error = error as? ConfigError { return error }
        guard let error = error as? DecodingError else { return ConfigError(file: file, key: key, reason: plainReason(error)) }
        func at(_ context: DecodingError.Context) -> String? {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? key : path
        }
        switch error {
        case .typeMismatch(let type, let c):
            return ConfigError(file: file, key: at(c), reason: "expected \(type)")
        case .valueNotFound(let type, let c):
            return ConfigError(file: file, key: at(c), reason: "expected \(type), found null")
        case .keyNotFound(let missing, let c):
            return ConfigError(file: file, key: at(c), reason: "missing key \(missing.stringValue)")
        case .dataCorrupted(let c):
            // Where Foundation gives no description of a parse error (Linux), the error's own text says where.
            let underlying = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                ?? c.underlyingError.map { "\(c.debugDescription) (\($0))" }
            guard let underlying else {
                return ConfigError(file: file, key: at(c), reason: c.codingPath.isEmpty ? "invalid JSON: \(c.debugDescription)" : c.debugDescription)
            }
            return ConfigError(file: file, key: at(c), reason: "invalid JSON: \(underlying)")
        @unknown default:
            return ConfigError(file: file, key: key, reason: "\(error)")
        }
    }

    /// Foundation's own JSON errors in words: a number that does not fit the field's type (a
    /// fractional channel count, an integer past 64 bits) names its value.
    static func plainReason(_ error: Error) -> String {
        let text = "\(error)"
        let marker = "numberIsNotRepresentableInSwift(parsed: \""
        if let start = text.range(of: marker), let end = text[start.upperBound...].firstIndex(of: "\"") {
            return "\(text[start.upperBound..<end]) is not a value of this key's type (a whole number where one is expected)"
        }
        return text
    }

    /// `Infinity`, `-Infinity` and `NaN` outside strings, quoted for the decoder's strategy.
    static func quotingNonFiniteNumbers(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var inString = false, escaped = false
        var i = 0
        let tokens: [[UInt8]] = ["-Infinity", "Infinity", "NaN"].map { Array($0.utf8) }
        outer: while i < bytes.count {
            let b = bytes[i]
            if inString {
                out.append(b)
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            if b == UInt8(ascii: "\"") { inString = true; out.append(b); i += 1; continue }
            for token in tokens where bytes.count - i >= token.count && Array(bytes[i..<(i + token.count)]) == token {
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: token)
                out.append(UInt8(ascii: "\""))
                i += token.count
                continue outer
            }
            out.append(b)
            i += 1
        }
        return Data(out)
    }
}
