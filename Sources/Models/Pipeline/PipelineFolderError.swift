// Errors from reading and writing pipeline folders and component configs; each names the path.
import Foundation

public enum PipelineFolderError: Error, CustomStringConvertible {
    case missingDirectory(String)
    case missingFile(String)
    case missingComponent(name: String, modelIndex: String)
    case invalidJSON(path: String, reason: String)
    case unsupportedWeights(path: String, reason: String)
    /// A config field whose value this implementation does not support.
    case unsupportedConfig(type: String, field: String, value: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingDirectory(let path): return "missing directory: \(path)"
        case .missingFile(let path): return "missing file: \(path)"
        case .missingComponent(let name, let path): return "\(path): no component \"\(name)\" (or it is null)"
        case .invalidJSON(let path, let reason): return "\(path): invalid JSON: \(reason)"
        case .unsupportedWeights(let path, let reason): return "\(path): \(reason)"
        case .unsupportedConfig(let type, let field, let value, let reason):
            return "\(type): unsupported \(field) = \(value): \(reason)"
        case .writeFailed(let path, let reason): return "cannot write \(path): \(reason)"
        }
    }
}
