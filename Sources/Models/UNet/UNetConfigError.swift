// Errors from UNet configs, files and inputs; each names the field, file or tensor at fault.
import Foundation

public enum UNetConfigError: Error, CustomStringConvertible, Equatable {
    /// A config field whose value this implementation does not support.
    case unsupported(field: String, value: String, supported: String)
    /// A config field whose value is malformed or inconsistent with other fields.
    case invalidValue(field: String, reason: String)
    /// A problem with a file of a model folder.
    case file(path: String, reason: String)
    /// Forward-pass inputs that do not fit the model.
    case invalidInput(String)

    public var description: String {
        switch self {
        case .unsupported(let field, let value, let supported):
            return "UNet2DConditionModel config: unsupported \(field) = \(value) (supported: \(supported))"
        case .invalidValue(let field, let reason):
            return "UNet2DConditionModel config: invalid \(field): \(reason)"
        case .file(let path, let reason):
            return "\(path): \(reason)"
        case .invalidInput(let reason):
            return "UNet2DConditionModel input: \(reason)"
        }
    }
}
