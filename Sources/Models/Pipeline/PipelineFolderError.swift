// Errors of pipeline folders (directories, components, weight files); config files throw ConfigError.
import Foundation

public enum PipelineFolderError: Error, CustomStringConvertible {
    case missingDirectory(String)
    case missingFile(String)
    case missingComponent(name: String, modelIndex: String)
    case unsupportedWeights(path: String, reason: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingDirectory(let path): return "missing directory: \(path)"
        case .missingFile(let path): return "missing file: \(path)"
        case .missingComponent(let name, let path): return "\(path): no component \"\(name)\" (or it is null)"
        case .unsupportedWeights(let path, let reason): return "\(path): \(reason)"
        case .writeFailed(let path, let reason): return "cannot write \(path): \(reason)"
        }
    }
}
