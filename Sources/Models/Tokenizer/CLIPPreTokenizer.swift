// CLIP's split pattern, applied as Python's regex.findall with IGNORECASE:
// <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
import Foundation

enum CLIPPreTokenizer {
    private static let specialWords: [[Unicode.Scalar]] = ["<|startoftext|>", "<|endoftext|>"].map { Array($0.unicodeScalars) }
    private static let contractions: [[Unicode.Scalar]] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"].map { Array($0.unicodeScalars) }

    /// Pre-tokens in order; characters no alternative matches (whitespace) are skipped.
    static func split(_ text: [Unicode.Scalar]) -> [String] {
        var pieces: [String] = []
        var i = 0
        while i < text.count {
            let length = matchLength(text, at: i)
            if length > 0 {
                pieces.append(String(String.UnicodeScalarView(text[i..<(i + length)])))
                i += length
            } else {
                i += 1
            }
        }
        return pieces
    }

    /// Length of the first alternative that matches at `start`, 0 if none.
    private static func matchLength(_ text: [Unicode.Scalar], at start: Int) -> Int {
        let first = text[start]
        if first == "<" || first == "'" {
            for literal in first == "<" ? specialWords : contractions where matches(literal, text, at: start) {
                return literal.count
            }
        }
        if isLetter(first) {
            var end = start + 1
            while end < text.count, isLetter(text[end]) { end += 1 }
            return end - start
        }
        if isNumber(first) { return 1 }
        if CLIPTextCleanup.isPythonWhitespace(first) { return 0 }
        var end = start + 1
        while end < text.count, !isLetter(text[end]), !isNumber(text[end]), !CLIPTextCleanup.isPythonWhitespace(text[end]) {
            end += 1
        }
        return end - start
    }

    /// Case-insensitive literal match (simple case folding: 'ſ' also matches 's').
    private static func matches(_ literal: [Unicode.Scalar], _ text: [Unicode.Scalar], at start: Int) -> Bool {
        guard start + literal.count <= text.count else { return false }
        for (offset, expected) in literal.enumerated() where fold(text[start + offset]) != expected {
            return false
        }
        return true
    }

    private static func fold(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if ("A"..."Z").contains(scalar) { return Unicode.Scalar(scalar.value + 32) ?? scalar }
        if scalar == "\u{17F}" { return "s" }
        return scalar
    }

    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    static func isNumber(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return ("0"..."9").contains(scalar) }
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }
}
