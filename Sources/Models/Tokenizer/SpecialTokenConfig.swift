// Special tokens and limits from tokenizer_config.json and special_tokens_map.json, resolved
// as transformers' from_pretrained does for CLIPTokenizer.
import FileIO
import Foundation
import TensorCore

struct SpecialTokenConfig {
    var bos = "<|startoftext|>"
    var eos = "<|endoftext|>"
    var unk: String? = "<|endoftext|>"
    var pad: String? = "<|endoftext|>"
    var additionalSpecial: [String] = []
    /// added_tokens_decoder: content → id.
    var addedTokens: [String: Int] = [:]
    var modelMaxLength = 77
    /// The file the special tokens came from, for error messages.
    var source: String

    /// CLIPTokenizer defaults, then tokenizer_config.json; special_tokens_map.json overrides
    /// them only in the legacy layout without added_tokens_decoder (as transformers does).
    /// Both files are optional.
    init(directory: URL) throws {
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        let mapURL = directory.appendingPathComponent("special_tokens_map.json")
        source = configURL.path
        let config = try Self.readObject(configURL)
        if let config { try apply(config, path: configURL.path) }
        let hasAddedDecoder = config?["added_tokens_decoder"] != nil
        if let map = try Self.readObject(mapURL) {
            for key in ["bos_token", "eos_token", "unk_token", "pad_token", "additional_special_tokens"]
            where map[key] != nil && (!hasAddedDecoder || config?[key] == nil) {
                try apply([key: map[key] as Any], path: mapURL.path)
                source = mapURL.path
            }
        }
        if let config, let decoder = config["added_tokens_decoder"] {
            guard let entries = decoder as? [String: Any] else {
                throw CLIPTokenizerError.invalidConfigValue(path: configURL.path, key: "added_tokens_decoder", reason: "expected an object")
            }
            for (idText, entry) in entries {
                guard let id = Int(idText), (0...Int(Int32.max)).contains(id), let content = try Self.tokenContent(entry, key: "added_tokens_decoder.\(idText)", path: configURL.path) else {
                    throw CLIPTokenizerError.invalidConfigValue(path: configURL.path, key: "added_tokens_decoder.\(idText)", reason: "expected an id in 0...\(Int32.max) and a token")
                }
                addedTokens[content] = id
            }
        }
    }

    private mutating func apply(_ object: [String: Any], path: String) throws {
        if let value = object["bos_token"] {
            guard let token = try Self.tokenContent(value, key: "bos_token", path: path) else {
                throw CLIPTokenizerError.invalidConfigValue(path: path, key: "bos_token", reason: "must not be null")
            }
            bos = token
        }
        if let value = object["eos_token"] {
            guard let token = try Self.tokenContent(value, key: "eos_token", path: path) else {
                throw CLIPTokenizerError.invalidConfigValue(path: path, key: "eos_token", reason: "must not be null")
            }
            eos = token
        }
        if let value = object["unk_token"] { unk = try Self.tokenContent(value, key: "unk_token", path: path) }
        if let value = object["pad_token"] { pad = try Self.tokenContent(value, key: "pad_token", path: path) }
        if let value = object["additional_special_tokens"] {
            guard let list = value as? [Any] else {
                throw CLIPTokenizerError.invalidConfigValue(path: path, key: "additional_special_tokens", reason: "expected a list")
            }
            additionalSpecial = try list.compactMap { try Self.tokenContent($0, key: "additional_special_tokens", path: path) }
        }
        if let value = object["model_max_length"] {
            // Unbounded tokenizers save a huge float (1e30); keep 77 then.
            if let number = value as? NSNumber, number.doubleValue >= 1, number.doubleValue < 1e9 {
                modelMaxLength = number.intValue
            } else if !(value is NSNumber) {
                throw CLIPTokenizerError.invalidConfigValue(path: path, key: "model_max_length", reason: "expected a number")
            }
        }
    }

    /// A token given as a string or as {"content": ...}; nil for JSON null.
    private static func tokenContent(_ value: Any, key: String, path: String) throws -> String? {
        if value is NSNull { return nil }
        if let string = value as? String { return string }
        if let object = value as? [String: Any], let content = object["content"] as? String { return content }
        throw CLIPTokenizerError.invalidConfigValue(path: path, key: key, reason: "expected a string or an object with \"content\"")
    }

    private static func readObject(_ url: URL) throws -> [String: Any]? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do { data = try InputFile.read(url) } catch let error as InputError {
            throw CLIPTokenizerError.unreadableFile(path: url.path, reason: error.reason)
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw CLIPTokenizerError.malformedJSON(path: url.path, offset: 0, reason: "\(error)")
        }
        guard let dictionary = object as? [String: Any] else {
            throw CLIPTokenizerError.malformedJSON(path: url.path, offset: 0, reason: "the top level is not an object")
        }
        return dictionary
    }
}
