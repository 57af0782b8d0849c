// Byte-level BPE of OpenAI CLIP's simple_tokenizer (and transformers' CLIPTokenizer.bpe):
// bytes mapped to printable characters, `</w>` on the last symbol, merges by rank.
import Foundation

/// Splits one pre-token into vocabulary pieces. Symbols are interned as `Int32` so the merge
/// loop compares integers; every symbol a merge can produce is interned at load time.
struct BytePairEncoder: @unchecked Sendable {
    static let endOfWord = "</w>"

    /// Interned symbol strings (byte characters, their `</w>` forms, merge parts and results).
    private(set) var symbolStrings: [String] = []
    private var symbolIndex: [String: Int32] = [:]
    /// Symbol of byte b, and of byte b ending a word.
    private var byteSymbol = [Int32](repeating: 0, count: 256)
    private var finalByteSymbol = [Int32](repeating: 0, count: 256)
    /// (left << 32 | right) → (rank << 32 | merged symbol).
    fileprivate var merges: [UInt64: UInt64] = [:]
    private let cache = BPECache()

    /// `mergeLines` are "left right" pairs in rank order (rank = position, a repeated pair keeps
    /// its last rank as Python's dict does); lines without exactly two fields never match.
    init(mergeLines: [Substring]) {
        let byteCharacters = BytePairEncoder.byteToUnicode
        for byte in 0..<256 {
            byteSymbol[byte] = intern(String(byteCharacters[byte]))
            finalByteSymbol[byte] = intern(String(byteCharacters[byte]) + BytePairEncoder.endOfWord)
        }
        merges.reserveCapacity(mergeLines.count)
        for (rank, line) in mergeLines.enumerated() {
            // Python's str.split(): byte-mapped symbols never contain whitespace characters.
            let parts = line.utf8.split(whereSeparator: { $0 == 0x20 || (0x09...0x0D).contains($0) })
            guard parts.count == 2 else { continue }
            let leftText = String(decoding: parts[0], as: UTF8.self), rightText = String(decoding: parts[1], as: UTF8.self)
            let left = intern(leftText), right = intern(rightText)
            let merged = intern(leftText + rightText)
            merges[BytePairEncoder.key(left, right)] = UInt64(rank) << 32 | UInt64(UInt32(merged))
        }
    }

    private mutating func intern(_ string: String) -> Int32 {
        if let existing = symbolIndex[string] { return existing }
        let id = Int32(symbolStrings.count)
        symbolStrings.append(string)
        symbolIndex[string] = id
        return id
    }

    fileprivate static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
    }

    /// Symbols of one pre-token (its UTF-8 bytes), cached by the pre-token text.
    func encode(_ token: String) -> [Int32] {
        if let cached = cache.lookup(token) { return cached }
        let symbols = merge(Array(token.utf8))
        cache.store(token, symbols)
        return symbols
    }

    /// CLIP's bpe(): repeatedly take the lowest-ranked adjacent pair and merge every
    /// non-overlapping occurrence of it from left to right, until no pair has a rank.
    func merge(_ bytes: [UInt8]) -> [Int32] {
        guard let last = bytes.last else { return [] }
        var word = bytes.dropLast().map { byteSymbol[Int($0)] }
        word.append(finalByteSymbol[Int(last)])
        if word.count < 2 { return word }

        let none = UInt32.max
        var ranks = [UInt32](repeating: none, count: word.count - 1)   // rank of pair (i, i+1)
        var results = [Int32](repeating: 0, count: word.count - 1)
        func lookUp(_ i: Int, _ word: [Int32]) -> (UInt32, Int32) {
            guard let entry = merges[BytePairEncoder.key(word[i], word[i + 1])] else { return (none, 0) }
            return (UInt32(entry >> 32), Int32(truncatingIfNeeded: UInt32(entry & 0xFFFF_FFFF)))
        }
        for i in 0..<(word.count - 1) { (ranks[i], results[i]) = lookUp(i, word) }

        var newWord: [Int32] = [], fresh: [Bool] = [], origin: [Int] = []
        while word.count > 1 {
            var best = none, bestIndex = -1
            for i in 0..<ranks.count where ranks[i] < best { best = ranks[i]; bestIndex = i }
            if bestIndex < 0 { break }
            let first = word[bestIndex], second = word[bestIndex + 1], merged = results[bestIndex]

            newWord.removeAll(keepingCapacity: true)
            fresh.removeAll(keepingCapacity: true)
            origin.removeAll(keepingCapacity: true)
            var i = 0
            while i < word.count {
                if i + 1 < word.count, word[i] == first, word[i + 1] == second {
                    newWord.append(merged); fresh.append(true); origin.append(i); i += 2
                } else {
                    newWord.append(word[i]); fresh.append(false); origin.append(i); i += 1
                }
            }
            // Pairs untouched by this pass keep their rank; pairs next to a merge are looked up.
            var newRanks = [UInt32](repeating: none, count: max(newWord.count - 1, 0))
            var newResults = [Int32](repeating: 0, count: newRanks.count)
            for j in 0..<newRanks.count {
                if fresh[j] || fresh[j + 1] {
                    (newRanks[j], newResults[j]) = lookUp(j, newWord)
                } else {
                    newRanks[j] = ranks[origin[j]]; newResults[j] = results[origin[j]]
                }
            }
            swap(&word, &newWord)
            ranks = newRanks
            results = newResults
        }
        return word
    }

    /// Symbol id of a string, if interned (used to map vocabulary ids onto symbols).
    func symbol(for string: String) -> Int32? { symbolIndex[string] }

    /// bytes_to_unicode(): printable Latin-1 bytes map to themselves, the rest to U+0100 onwards.
    static let byteToUnicode: [Character] = {
        var printable = Array(0x21...0x7E) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
        var codePoints = printable
        var next = 0
        for byte in 0..<256 where !printable.contains(byte) {
            printable.append(byte)
            codePoints.append(256 + next)
            next += 1
        }
        var table = [Character](repeating: " ", count: 256)
        for (byte, codePoint) in zip(printable, codePoints) {
            table[byte] = Character(Unicode.Scalar(UInt32(codePoint)) ?? "\u{FFFD}")   // < 0x200: always valid
        }
        return table
    }()

    /// Inverse of `byteToUnicode`, by scalar value.
    static let unicodeToByte: [UInt32: UInt8] = {
        var table: [UInt32: UInt8] = [:]
        for (byte, character) in byteToUnicode.enumerated() {
            if let scalar = character.unicodeScalars.first { table[scalar.value] = UInt8(byte) }
        }
        return table
    }()
}

/// Thread-safe word cache; cleared when it grows past `limit` so odd inputs cannot grow it forever.
final class BPECache: @unchecked Sendable {
    private var entries: [String: [Int32]] = [:]
    private let lock = NSLock()
    private let limit = 50_000

    func lookup(_ token: String) -> [Int32]? {
        lock.lock(); defer { lock.unlock() }
        return entries[token]
    }

    func store(_ token: String, _ symbols: [Int32]) {
        lock.lock(); defer { lock.unlock() }
        if entries.count >= limit { entries.removeAll(keepingCapacity: true) }
        entries[token] = symbols
    }
}

extension BytePairEncoder {
    /// Merge rank of the pair (left, right), nil when the pair never merges.
    func rank(_ left: Int32, _ right: Int32) -> Int? {
        merges[BytePairEncoder.key(left, right)].map { Int($0 >> 32) }
    }
}
