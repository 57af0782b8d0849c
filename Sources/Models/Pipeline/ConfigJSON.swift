// The old name of TensorCore's ConfigFile.read, kept for callers not yet moved (the training commands).
import Foundation
import TensorCore

@available(*, deprecated, message: "use TensorCore's ConfigFile")
public enum ConfigJSON {
    /// `ConfigFile.read`: a missing file, bad JSON or a wrong type is a ConfigError naming file and key.
    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        try ConfigFile.read(type, from: url)
    }
}
