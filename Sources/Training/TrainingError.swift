// The errors of training, each naming the option field or checkpoint entry it is about.
import Foundation

/// Library errors speak of fields (`TrainingOptions.steps`), never of command-line flags:
/// a front end maps `field` to its own spelling when it prints them (see `fields`).
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// An option out of range: `field` is `Type.property`.
    case invalidOption(field: String, problem: String)
    /// A resume whose setting differs from the checkpoint's.
    case resumeMismatch(field: String, checkpoint: String, current: String, file: String)
    /// A checkpoint that lacks something or holds something malformed.
    case checkpoint(file: String, problem: String)
    /// The loss became NaN or infinite.
    case diverged(step: Int, loss: Float)

    public var description: String {
        switch self {
        case .invalidOption(let field, let problem):
            return "\(field) \(problem)"
        case .resumeMismatch(let field, let checkpoint, let current, let file):
            return "cannot resume from \(file): it was trained with \(field) = \(checkpoint), this run has \(current); "
                + "resume with the same \(field) or start a new run"
        case .checkpoint(let file, let problem):
            return "invalid checkpoint \(file): \(problem)"
        case .diverged(let step, let loss):
            return "training diverged at step \(step) (loss \(loss)); lower TrainingOptions.learningRate"
        }
    }

    /// The option fields the description mentions, so a front end can name its own flags.
    public var fields: [String] {
        switch self {
        case .invalidOption(let field, _), .resumeMismatch(let field, _, _, _): return [field]
        case .diverged: return ["TrainingOptions.learningRate"]
        case .checkpoint: return []
        }
    }
}

/// Throws `invalidOption(field, problem)` unless `ok`.
func require(_ ok: Bool, _ field: String, _ problem: @autoclosure () -> String) throws {
    if !ok { throw TrainingError.invalidOption(field: field, problem: problem()) }
}
