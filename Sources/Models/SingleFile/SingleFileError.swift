// Errors of single-file (original LDM layout) checkpoints: each names the file and the LDM key.
public enum SingleFileError: Error, CustomStringConvertible {
    case pickle(path: String, reason: String)
    case notACheckpoint(path: String, reason: String)
    case missingKeys([String], path: String)
    case unexpectedKeys([String], path: String)
    case shapeMismatch(key: String, expected: [Int], found: [Int], path: String)
    case cannotInfer(path: String, key: String, reason: String)
    case unsupported(path: String, reason: String)

    private static func list(_ keys: [String]) -> String {
        keys.prefix(8).joined(separator: ", ") + (keys.count > 8 ? ", … (\(keys.count) in all)" : "")
    }

    public var description: String {
        switch self {
        case .pickle(let path, let reason):
            return "\(path): \(reason). Diffuse does not read pickle checkpoints: unpickling runs whatever code the file holds. "
                + "Convert it to .safetensors with a tool you trust, in a sandbox (e.g. diffusers' or the SD WebUI's "
                + "safetensors conversion), and pass the .safetensors file instead"
        case .notACheckpoint(let path, let reason): return "\(path): not a Stable Diffusion single-file checkpoint: \(reason)"
        case .missingKeys(let keys, let path): return "\(path): missing \(keys.count) LDM key(s): \(Self.list(keys))"
        case .unexpectedKeys(let keys, let path): return "\(path): unexpected \(keys.count) LDM key(s): \(Self.list(keys))"
        case .shapeMismatch(let key, let expected, let found, let path):
            return "\(path): LDM key \(key) has shape \(found), expected \(expected)"
        case .cannotInfer(let path, let key, let reason): return "\(path): cannot infer the model's sizes from \(key): \(reason)"
        case .unsupported(let path, let reason): return "\(path): \(reason)"
        }
    }
}
