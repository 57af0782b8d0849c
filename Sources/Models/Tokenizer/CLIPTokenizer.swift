// CLIP tokenizer matching transformers' slow CLIPTokenizer (with ftfy) and OpenAI CLIP's
// simple_tokenizer: clean-up, lower-casing, CLIP's regex split, byte-level BPE, BOS/EOS.
import FileIO
import Foundation

/// Loads a diffusers `tokenizer/` folder and turns prompts into CLIP token ids.
public struct CLIPTokenizer: Sendable {
    /// A special token's text and id.
    public struct SpecialToken: Equatable, Sendable {
        public let content: String
        public let id: Int
    }

    public let bos: SpecialToken
    public let eos: SpecialToken
    public let pad: SpecialToken
    public let unk: SpecialToken
    /// `model_max_length` from tokenizer_config.json (77 for CLIP).
    public let modelMaxLength: Int
    /// Number of entries in vocab.json.
    public let vocabularySize: Int
    /// The largest id the tokenizer can emit (vocab.json and added tokens), checked against
    /// the text encoder's embedding by `CLIPTextModel.checkTokenizer`.
    public let largestID: Int

    let encoder: BytePairEncoder
    /// Vocabulary id of each BPE symbol (-1: not in the vocabulary, encoded as `unk`).
    let symbolIDs: [Int32]
    /// Token text by id (vocab.json plus added tokens).
    let idToToken: [Int: String]
    /// Tokens never split or cleaned (added tokens and declared special tokens) → id.
    let addedTokens: [String: Int]
    /// `addedTokens` as scalars, longest first, for the leftmost-longest split.
    let addedTokenScalars: [[Unicode.Scalar]]
    let specialIDs: Set<Int>

    /// transformers reads at most 49152 - 256 - 2 merges (merges.txt lines 1...48894).
    static let maximumMerges = 49152 - 256 - 2

    public init(directory: URL) throws {
        let vocabURL = directory.appendingPathComponent("vocab.json")
        var parser = VocabularyJSONParser(bytes: try Self.read(vocabURL), path: vocabURL.path)
        let vocab = try parser.parse()
        // An empty vocabulary would make every word the unknown token, silently.
        guard !vocab.isEmpty else { throw InputError(location: vocabURL.path, reason: "the vocabulary is empty") }

        let mergesURL = directory.appendingPathComponent("merges.txt")
        let mergeLines = try Self.mergeLines(Self.read(mergesURL), path: mergesURL.path)

        let config = try SpecialTokenConfig(directory: directory)
        try self.init(vocab: vocab, mergeLines: mergeLines, config: config)
    }

    init(vocab: [String: Int], mergeLines: [Substring], config: SpecialTokenConfig) throws {
        var added: [String: Int] = config.addedTokens
        func resolve(_ key: String, _ content: String) throws -> SpecialToken {
            if let id = added[content] ?? vocab[content] { return SpecialToken(content: content, id: id) }
            throw CLIPTokenizerError.unknownSpecialToken(path: config.source, key: key, token: content)
        }
        bos = try resolve("bos_token", config.bos)
        eos = try resolve("eos_token", config.eos)
        unk = try config.unk.map { try resolve("unk_token", $0) } ?? eos
        pad = try config.pad.map { try resolve("pad_token", $0) } ?? eos
        for token in [bos, eos, unk, pad] where added[token.content] == nil { added[token.content] = token.id }
        for content in config.additionalSpecial {
            added[content] = try resolve("additional_special_tokens", content).id
        }
        addedTokens = added
        addedTokenScalars = added.keys.filter { !$0.isEmpty }.map { Array($0.unicodeScalars) }
            .sorted { $0.count > $1.count }
        specialIDs = Set([bos.id, eos.id, unk.id, pad.id] + config.additionalSpecial.compactMap { added[$0] })
        modelMaxLength = config.modelMaxLength
        vocabularySize = vocab.count

        encoder = BytePairEncoder(mergeLines: mergeLines)
        // convert_tokens_to_ids: added tokens first, then the vocabulary, else unk.
        symbolIDs = encoder.symbolStrings.map { symbol in Int32(truncatingIfNeeded: added[symbol] ?? vocab[symbol] ?? -1) }
        var inverse: [Int: String] = [:]
        inverse.reserveCapacity(vocab.count + added.count)
        for (token, id) in vocab { inverse[id] = token }
        for (token, id) in added { inverse[id] = token }
        idToToken = inverse
        largestID = inverse.keys.max() ?? -1
    }

    /// merges_handle.read().strip().split("\n")[1 : 49152 - 256 - 2 + 1]: the first line is the
    /// version header. Split on bytes: splitting a 500 kB String by Character is slow.
    private static func mergeLines(_ bytes: [UInt8], path: String) throws -> [Substring] {
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || (0x09...0x0D).contains($0) }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) }) else { return [] }
        var lines: [Substring] = []
        lines.reserveCapacity(min(bytes.count / 8, maximumMerges))
        var lineStart = first
        var lineNumber = 0
        for index in first...(last + 1) where index == last + 1 || bytes[index] == 0x0A {
            if lineNumber > 0 {
                guard let line = String(validating: bytes[lineStart..<index], as: UTF8.self) else {
                    throw CLIPTokenizerError.unreadableFile(path: path, reason: "line \(lineNumber + 1) is not valid UTF-8")
                }
                lines.append(Substring(line))
                if lines.count == maximumMerges { break }
            }
            lineNumber += 1
            lineStart = index + 1
        }
        return lines
    }

    private static func read(_ url: URL) throws -> [UInt8] {
        do {
            return Array(try InputFile.read(url))
        } catch let error as InputError {
            throw CLIPTokenizerError.unreadableFile(path: url.path, reason: error.reason)
        }
    }

    // MARK: Encoding

    /// BOS + tokens + EOS, not truncated or padded (`tokenizer(prompt).input_ids`).
    public func encode(_ text: String) -> [Int] {
        [bos.id] + pieces(of: text).map(\.id) + [eos.id]
    }

    /// What the pipeline feeds the text encoder: truncated to `maxLength` with EOS kept last,
    /// padded with the pad token (`padding="max_length", truncation=True`).
    /// `truncated` says whether prompt tokens were dropped.
    public func inputIDs(_ text: String, maxLength: Int = 77) -> (ids: [Int], truncated: Bool) {
        let tokens = pieces(of: text).map(\.id)
        let room = max(maxLength - 2, 0)
        var ids = [bos.id] + tokens.prefix(room) + [eos.id]
        if ids.count > maxLength { ids = Array(ids.prefix(max(maxLength, 0))) }   // maxLength < 2
        ids += [Int](repeating: pad.id, count: max(maxLength - ids.count, 0))
        return (ids, tokens.count > room)
    }

    /// Token strings of `encode(text)`, one per id, BOS and EOS included (vocabulary spelling:
    /// bytes as printable characters, `</w>` at word ends).
    public func tokens(for text: String) -> [String] {
        [bos.content] + pieces(of: text).map(\.text) + [eos.content]
    }

    /// Token text for an id, nil when the id is not in the vocabulary.
    public func token(forID id: Int) -> String? { idToToken[id] }

    /// Text of ids as transformers' decode: byte-level pieces joined, `</w>` → space, stripped.
    /// Special tokens are kept as their text unless `skipSpecialTokens`; unknown ids are skipped.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids {
            if skipSpecialTokens, specialIDs.contains(id) { continue }
            guard let token = idToToken[id] else { continue }
            for scalar in token.unicodeScalars {
                if let byte = BytePairEncoder.unicodeToByte[scalar.value] { bytes.append(byte) }
            }
        }
        let text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: BytePairEncoder.endOfWord, with: " ")
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.firstIndex(where: { !CLIPTextCleanup.isPythonWhitespace($0) }),
              let last = scalars.lastIndex(where: { !CLIPTextCleanup.isPythonWhitespace($0) }) else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    /// One token of a prompt: its id and vocabulary text.
    struct Piece {
        let id: Int
        let text: String
    }

    /// tokenize() + convert_tokens_to_ids, without BOS/EOS: split on added tokens, then clean,
    /// lower-case, regex-split and BPE each remaining chunk.
    func pieces(of text: String) -> [Piece] {
        var result: [Piece] = []
        for chunk in splitOnAddedTokens(Array(text.unicodeScalars)) {
            switch chunk {
            case let .added(content, id):
                result.append(Piece(id: id, text: content))
            case let .text(scalars):
                for word in CLIPPreTokenizer.split(CLIPTextCleanup.normalize(scalars)) {
                    for symbol in encoder.encode(word) {
                        let id = Int(symbolIDs[Int(symbol)])
                        result.append(Piece(id: id >= 0 ? id : unk.id, text: encoder.symbolStrings[Int(symbol)]))
                    }
                }
            }
        }
        return result
    }

    enum Chunk {
        case added(String, Int)
        case text([Unicode.Scalar])
    }

    /// transformers' Trie.split: the leftmost added token wins, the longest at that position.
    func splitOnAddedTokens(_ text: [Unicode.Scalar]) -> [Chunk] {
        var chunks: [Chunk] = []
        var start = 0, i = 0
        outer: while i < text.count {
            for token in addedTokenScalars where token.first == text[i] && i + token.count <= text.count {
                if text[i..<(i + token.count)].elementsEqual(token) {
                    if i > start { chunks.append(.text(Array(text[start..<i]))) }
                    let content = String(String.UnicodeScalarView(token))
                    chunks.append(.added(content, addedTokens[content] ?? unk.id))
                    i += token.count
                    start = i
                    continue outer
                }
            }
            i += 1
        }
        if start < text.count { chunks.append(.text(Array(text[start...]))) }
        return chunks
    }
}
