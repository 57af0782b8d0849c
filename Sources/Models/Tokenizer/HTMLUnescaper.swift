// ftfy's unescape_html: decodes `&name;` / `&#N;` / `&#xH;` (regex &#?[0-9A-Za-z]{1,24};) only
// when the whole reference is valid, using Python's html.unescape rules for numbers.
import Foundation

enum HTMLUnescaper {
    /// "&name;" without '&' and ';' → replacement scalars.
    static let entities: [String: [Unicode.Scalar]] = {
        var table: [String: [Unicode.Scalar]] = [:]
        for line in HTMLEntityTable.source.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2 else { continue }
            let scalars = fields[1].split(separator: ",").compactMap { UInt32($0, radix: 16).flatMap(Unicode.Scalar.init) }
            table[String(fields[0])] = scalars
        }
        return table
    }()

    static func unescape(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        guard text.contains("&") else { return text }
        var output: [Unicode.Scalar] = []
        output.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if text[i] == "&", let (length, replacement) = reference(in: text, at: i) {
                output.append(contentsOf: replacement)
                i += length
            } else {
                output.append(text[i])
                i += 1
            }
        }
        return output
    }

    private static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar) || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    /// A match of &#?[0-9A-Za-z]{1,24}; at `start`: its length and what it becomes.
    private static func reference(in text: [Unicode.Scalar], at start: Int) -> (Int, [Unicode.Scalar])? {
        var j = start + 1
        let numeric = j < text.count && text[j] == "#"
        if numeric { j += 1 }
        let nameStart = j
        while j < text.count, j - nameStart < 24, isASCIIAlphanumeric(text[j]) { j += 1 }
        guard j > nameStart, j < text.count, text[j] == ";" else { return nil }
        let length = j + 1 - start
        let name = String(String.UnicodeScalarView(text[nameStart..<j]))
        if !numeric {
            guard let replacement = entities[name] else { return (length, Array(text[start..<start + length])) }
            return (length, replacement)
        }
        // ftfy keeps the reference when html.unescape would leave a ';' behind.
        guard let replacement = numericReference(name), !replacement.contains(";") else {
            return (length, Array(text[start..<start + length]))
        }
        return (length, replacement)
    }

    /// html.unescape of "&#<body>;" when it consumes the whole reference, else nil.
    static func numericReference(_ body: String) -> [Unicode.Scalar]? {
        var digits = Substring(body)
        var radix = 10
        if let first = digits.first, first == "x" || first == "X" { radix = 16; digits = digits.dropFirst() }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        var overflow = false
        for character in digits {
            guard let digit = character.hexDigitValue, digit < radix else { return nil }
            if value > 0x10FFFF { overflow = true } else { value = value * UInt64(radix) + UInt64(digit) }
        }
        if overflow || value > 0x10FFFF || (0xD800...0xDFFF).contains(value) { return ["\u{FFFD}"] }
        switch value {
        case 0x00: return ["\u{FFFD}"]
        case 0x0D: return ["\r"]
        case 0x80...0x9F: return [CLIPTextCleanup.windows1252[Int(value - 0x80)]]
        case 0x01...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0xFDD0...0xFDEF: return []
        default:
            if value & 0xFFFE == 0xFFFE { return [] }
            return Unicode.Scalar(UInt32(value)).map { [$0] } ?? ["\u{FFFD}"]
        }
    }
}
