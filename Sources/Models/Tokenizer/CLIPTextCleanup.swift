// Text clean-up of transformers' slow CLIPTokenizer: whitespace_clean(ftfy.fix_text(text)).lower(),
// with ftfy's default fixes re-implemented (all but its mojibake repair, fix_encoding).
import Foundation

enum CLIPTextCleanup {
    /// The text CLIP's regex and BPE see: fixed, whitespace collapsed and stripped, lower-cased.
    static func normalize(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        lowercased(whitespaceCleaned(fixText(text)))
    }

    // MARK: ftfy.fix_text

    /// ftfy.fix_text with its default configuration: each line is fixed on its own; HTML is
    /// unescaped ("auto") until the first line that contains '<'.
    static func fixText(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var unescape = true
        var start = 0
        while start < text.count {
            var end = start
            while end < text.count, text[end] != "\n" { end += 1 }
            end = min(end + 1, text.count)                       // the segment keeps its "\n"
            let segment = Array(text[start..<end])
            if unescape, segment.contains("<") { unescape = false }
            output.append(contentsOf: fixSegment(segment, unescapeHTML: unescape))
            start = end
        }
        return output
    }

    /// ftfy.fix_and_explain: apply the fixes in ftfy's order until the text stops changing.
    static func fixSegment(_ segment: [Unicode.Scalar], unescapeHTML: Bool) -> [Unicode.Scalar] {
        var text = segment
        for _ in 0..<64 {   // ftfy loops to a fixed point; each round after the first is rare
            let original = text
            if unescapeHTML { text = HTMLUnescaper.unescape(text) }
            text = fixC1Controls(text)
            text = fixLatinLigatures(text)
            text = fixCharacterWidth(text)
            text = uncurlQuotes(text)
            text = fixLineBreaks(text)
            text = removeTerminalEscapes(text)
            text = removeControlCharacters(text)
            text = nfc(text)
            if text == original { break }
        }
        return text
    }

    /// C1 controls U+0080–U+009F read as Windows-1252 (ftfy's sloppy codec keeps the five holes).
    static func fixC1Controls(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains(where: { (0x80...0x9F).contains($0.value) }) else { return text }
        return text.map { scalar in
            guard (0x80...0x9F).contains(scalar.value) else { return scalar }
            return windows1252[Int(scalar.value - 0x80)]
        }
    }

    /// Windows-1252 bytes 0x80–0x9F (undefined bytes map to the same Latin-1 code point).
    static let windows1252: [Unicode.Scalar] = [
        "\u{20AC}", "\u{81}", "\u{201A}", "\u{192}", "\u{201E}", "\u{2026}", "\u{2020}", "\u{2021}",
        "\u{2C6}", "\u{2030}", "\u{160}", "\u{2039}", "\u{152}", "\u{8D}", "\u{17D}", "\u{8F}",
        "\u{90}", "\u{2018}", "\u{2019}", "\u{201C}", "\u{201D}", "\u{2022}", "\u{2013}", "\u{2014}",
        "\u{2DC}", "\u{2122}", "\u{161}", "\u{203A}", "\u{153}", "\u{9D}", "\u{17E}", "\u{178}",
    ]

    private static let ligatures: [UInt32: String] = [
        0x132: "IJ", 0x133: "ij", 0x149: "\u{2BC}n", 0x1F1: "DZ", 0x1F2: "Dz", 0x1F3: "dz",
        0x1C4: "D\u{17D}", 0x1C5: "D\u{17E}", 0x1C6: "d\u{17E}", 0x1C7: "LJ", 0x1C8: "Lj", 0x1C9: "lj",
        0x1CA: "NJ", 0x1CB: "Nj", 0x1CC: "nj", 0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl",
        0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "\u{17F}t", 0xFB06: "st",
    ]

    static func fixLatinLigatures(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        translate(text, ligatures)
    }

    /// U+3000 → space; U+FF01–U+FFEF → their NFKC forms (full-width ASCII, half-width kana…).
    private static let widthMap: [UInt32: String] = {
        var map: [UInt32: String] = [0x3000: " "]
        for value in UInt32(0xFF01)...0xFFEF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let original = String(Character(scalar))
            let alternate = original.precomposedStringWithCompatibilityMapping
            if alternate.unicodeScalars.elementsEqual(original.unicodeScalars) == false { map[value] = alternate }
        }
        return map
    }()

    static func fixCharacterWidth(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        translate(text, widthMap)
    }

    static func uncurlQuotes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.map { scalar in
            switch scalar.value {
            case 0x2BC, 0x2018...0x201B: return "'"
            case 0x201C...0x201F: return "\""
            default: return scalar
            }
        }
    }

    static func fixLineBreaks(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            switch text[i].value {
            case 0x0D:
                output.append("\n")
                if i + 1 < text.count, text[i + 1] == "\n" { i += 1 }
            case 0x2028, 0x2029, 0x85: output.append("\n")
            default: output.append(text[i])
            }
            i += 1
        }
        return output
    }

    /// Removes ANSI escapes: ESC '[' (digit | ';')* letter.
    static func removeTerminalEscapes(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("\u{1B}") else { return text }
        var output: [Unicode.Scalar] = []
        var i = 0
        while i < text.count {
            if text[i] == "\u{1B}", i + 1 < text.count, text[i + 1] == "[" {
                var j = i + 2
                while j < text.count, text[j] == ";" || ("0"..."9").contains(text[j]) { j += 1 }
                if j < text.count, text[j].isASCII, text[j].properties.isAlphabetic {
                    i = j + 1
                    continue
                }
            }
            output.append(text[i])
            i += 1
        }
        return output
    }

    /// ftfy's CONTROL_CHARS: C0 controls but \t \n \f \r, DEL, U+206A–206F, BOM, U+FFF9–FFFC.
    static func removeControlCharacters(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.filter { scalar in
            switch scalar.value {
            case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC: return false
            default: return true
            }
        }
    }

    /// Unicode NFC (scalars below U+0300 never change under NFC, so pure Latin-1 skips Foundation).
    static func nfc(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains(where: { $0.value >= 0x300 }) else { return text }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text)
        return Array(String(view).precomposedStringWithCanonicalMapping.unicodeScalars)
    }

    private static func translate(_ text: [Unicode.Scalar], _ table: [UInt32: String]) -> [Unicode.Scalar] {
        guard text.contains(where: { table[$0.value] != nil }) else { return text }
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        for scalar in text {
            if let replacement = table[scalar.value] {
                output.append(contentsOf: replacement.unicodeScalars)
            } else {
                output.append(scalar)
            }
        }
        return output
    }

    // MARK: whitespace_clean and lower()

    /// Python's str.isspace(): bidi classes WS, B, S or category Zs.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// re.sub(r"\s+", " ", text).strip()
    static func whitespaceCleaned(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var pendingSpace = false
        for scalar in text {
            if isPythonWhitespace(scalar) {
                pendingSpace = true
            } else {
                if pendingSpace, !output.isEmpty { output.append(" ") }
                pendingSpace = false
                output.append(scalar)
            }
        }
        return output
    }

    /// Python's str.lower(): full lower-case mappings, with the Final_Sigma rule for U+03A3.
    static func lowercased(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        for (index, scalar) in text.enumerated() {
            if scalar.isASCII {
                output.append(("A"..."Z").contains(scalar) ? Unicode.Scalar(scalar.value + 32) ?? scalar : scalar)
            } else if scalar.value == 0x3A3 {
                output.append(isFinalSigma(text, index) ? "\u{3C2}" : "\u{3C3}")
            } else {
                output.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return output
    }

    /// \p{cased} \p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased})
    private static func isFinalSigma(_ text: [Unicode.Scalar], _ index: Int) -> Bool {
        var j = index - 1
        while j >= 0, text[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0, text[j].properties.isCased else { return false }
        j = index + 1
        while j < text.count, text[j].properties.isCaseIgnorable { j += 1 }
        return j == text.count || !text[j].properties.isCased
    }
}
