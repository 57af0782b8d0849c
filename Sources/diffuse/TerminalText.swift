// Text from files and prompts as printed on a terminal: control characters escaped, so a PNG
// text chunk or a caption cannot move the cursor, recolour the screen or fake a line.

extension String {
    /// Control characters (C0, DEL, C1 — escape sequences included) as `\n`, `\t` or `\u{1b}`.
    var terminalSafe: String {
        var out = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value):
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
