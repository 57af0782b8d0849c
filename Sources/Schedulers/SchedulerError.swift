// Typed errors of the Schedulers module; each message names what was wrong and where.
import Foundation

public enum SchedulerError: Error, CustomStringConvertible, Equatable {
    /// A config value this implementation does not support (or diffusers rejects).
    case unsupported(scheduler: String, field: String, value: String, supported: [String])
    case invalidValue(scheduler: String, field: String, value: String, reason: String)
    case unknownSchedulerName(String, valid: [String])
    case unknownClassName(String, valid: [String])
    case timestepsNotSet(scheduler: String)
    case timestepNotInSchedule(scheduler: String, timestep: Double)
    case timestepOutOfRange(scheduler: String, timestep: Double, numTrainTimesteps: Int)
    case stepIndexOutOfRange(scheduler: String, index: Int, count: Int)
    case shapeMismatch(scheduler: String, what: String, expected: [Int], got: [Int])
    case noiseRequired(scheduler: String)

    public var description: String {
        switch self {
        case let .unsupported(scheduler, field, value, supported):
            return "\(scheduler): unsupported \(field) '\(value)' (supported: \(supported.joined(separator: ", ")))"
        case let .invalidValue(scheduler, field, value, reason):
            return "\(scheduler): invalid \(field) \(value): \(reason)"
        case let .unknownSchedulerName(name, valid):
            return "unknown scheduler '\(name)' (valid: \(valid.joined(separator: ", ")))"
        case let .unknownClassName(name, valid):
            return "unsupported scheduler class '\(name)' in _class_name (supported: \(valid.joined(separator: ", ")))"
        case let .timestepsNotSet(scheduler):
            return "\(scheduler): setTimesteps must be called before stepping"
        case let .timestepNotInSchedule(scheduler, t):
            return "\(scheduler): timestep \(t) is not one of the scheduler's timesteps"
        case let .timestepOutOfRange(scheduler, t, n):
            return "\(scheduler): timestep \(t) is outside [0, \(n)) training timesteps"
        case let .stepIndexOutOfRange(scheduler, index, count):
            return "\(scheduler): step index \(index) is past the end of the \(count)-entry schedule"
        case let .shapeMismatch(scheduler, what, expected, got):
            return "\(scheduler): \(what) has shape \(got), expected \(expected)"
        case let .noiseRequired(scheduler):
            return "\(scheduler): this step draws noise but the noise source is empty"
        }
    }
}
