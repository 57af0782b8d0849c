// A component's config (U-Net, VAE, CLIP text): one field table, one check, one error type.
import Foundation
import TensorCore

/// A config read from a component folder's `config.json`: its `fields` table decodes and encodes
/// it, and `validate()` rejects the values this implementation does not support.
public protocol ComponentConfig: ConfigFields, Codable, Equatable {
    /// Throws a `ConfigError` naming the first key whose value the model cannot be built from.
    func validate() throws
}

extension ComponentConfig {
    /// Reads a config.json named by path (a `--config` flag) and checks it, the parameter limit
    /// included, before any model is built; every error names the file.
    public static func read(from url: URL) throws -> Self {
        let config = try ConfigFile.read(Self.self, from: url)
        do { try config.validate() } catch var error as ConfigError {
            error.file = url.path
            throw error
        }
        return config
    }

    /// Where a config built in code (not read from a file) is said to be, as `decodeFields` says it.
    static var inCode: String { "<\(Self.self)>" }

    /// A value this implementation does not support, with the values it does.
    static func unsupported(_ path: PartialKeyPath<Self>, _ value: Any?, supported: String) -> ConfigError {
        ConfigError(file: inCode, key: key(path),
                    reason: "unsupported value \(value.map { "\($0)" } ?? "null") (supported: \(supported))")
    }

    /// A value that is malformed or does not fit the other fields.
    static func invalid(_ path: PartialKeyPath<Self>, _ reason: String) -> ConfigError {
        ConfigError(file: inCode, key: key(path), reason: reason)
    }
}
