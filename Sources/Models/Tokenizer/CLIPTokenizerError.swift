// Errors raised while loading a CLIP tokenizer folder (vocab.json, merges.txt, configs).
import Foundation
import TensorCore

/// A tokenizer folder that cannot be loaded; the message names the file and what was wrong.
public enum CLIPTokenizerError: Error, CustomStringConvertible, Equatable {
    /// A required file is missing or unreadable.
    case unreadableFile(path: String, reason: String)
    /// A JSON file is malformed; `offset` is the byte offset of the problem.
    case malformedJSON(path: String, offset: Int, reason: String)
    /// A configuration key holds a value of the wrong kind.
    case invalidConfigValue(path: String, key: String, reason: String)
    /// A declared special token has no id in vocab.json or added_tokens_decoder.
    case unknownSpecialToken(path: String, key: String, token: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read tokenizer file \(path): \(reason)"
        case let .malformedJSON(path, offset, reason):
            return "malformed JSON in \(path) at byte offset \(offset): \(reason)"
        case let .invalidConfigValue(path, key, reason):
            return "invalid value for \"\(key)\" in \(path): \(reason)"
        case let .unknownSpecialToken(path, key, token):
            return "special token \(key) = \"\(token)\" declared in \(path) is not in vocab.json or added_tokens_decoder"
        }
    }
}
