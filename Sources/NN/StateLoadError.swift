// The error of loading optimiser or EMA state: which owner, which tensor, what was wrong.
import TensorCore

/// A saved state that does not fit the parameters it is loaded for. Loading is strict, as
/// for model weights: a silently skipped tensor would resume with fresh moments or averages.
public struct StateLoadError: Error, CustomStringConvertible, Equatable {
    public enum Problem: Equatable {
        case missing
        case unexpected
        case shape(expected: [Int], found: [Int])
    }

    /// `AdamW` or `EMA`.
    public var owner: String
    /// The tensor's name in the state (`m.unet.conv_in.weight`, `unet.conv_in.weight`).
    public var key: String
    public var problem: Problem

    public init(owner: String, key: String, problem: Problem) {
        self.owner = owner
        self.key = key
        self.problem = problem
    }

    public var description: String {
        switch problem {
        case .missing: return "\(owner) state lacks tensor \(key)"
        case .unexpected: return "\(owner) state has tensor \(key), which no trained parameter matches"
        case .shape(let expected, let found): return "\(owner) state tensor \(key) has shape \(found), expected \(expected)"
        }
    }
}

extension StateLoadError {
    /// Checks that `stored` holds exactly `expected` (key → shape).
    static func check(_ stored: [String: Tensor], against expected: [(String, [Int])], owner: String) throws {
        for (key, shape) in expected {
            guard let tensor = stored[key] else { throw StateLoadError(owner: owner, key: key, problem: .missing) }
            guard tensor.shape == shape else {
                throw StateLoadError(owner: owner, key: key, problem: .shape(expected: shape, found: tensor.shape))
            }
        }
        let known = Set(expected.map(\.0))
        if let extra = stored.keys.sorted().first(where: { !known.contains($0) }) {
            throw StateLoadError(owner: owner, key: extra, problem: .unexpected)
        }
    }
}
