// A 5×7 bitmap font for labels on images (grids, ladders, plots); no font library needed.
import Foundation

public enum BitmapFont {
    public static let glyphWidth = 5, glyphHeight = 7

    /// Rows of each glyph, top to bottom; bit 4 is the leftmost pixel. Lower case draws as upper.
    static let glyphs: [Character: [UInt8]] = [
        "0": [14, 17, 19, 21, 25, 17, 14], "1": [4, 12, 4, 4, 4, 4, 14], "2": [14, 17, 1, 2, 4, 8, 31],
        "3": [31, 2, 4, 2, 1, 17, 14], "4": [2, 6, 10, 18, 31, 2, 2], "5": [31, 16, 30, 1, 1, 17, 14],
        "6": [6, 8, 16, 30, 17, 17, 14], "7": [31, 1, 2, 4, 8, 8, 8], "8": [14, 17, 17, 14, 17, 17, 14],
        "9": [14, 17, 17, 15, 1, 2, 12],
        "A": [14, 17, 17, 31, 17, 17, 17], "B": [30, 17, 17, 30, 17, 17, 30], "C": [14, 17, 16, 16, 16, 17, 14],
        "D": [28, 18, 17, 17, 17, 18, 28], "E": [31, 16, 16, 30, 16, 16, 31], "F": [31, 16, 16, 30, 16, 16, 16],
        "G": [14, 17, 16, 23, 17, 17, 15], "H": [17, 17, 17, 31, 17, 17, 17], "I": [14, 4, 4, 4, 4, 4, 14],
        "J": [7, 2, 2, 2, 2, 18, 12], "K": [17, 18, 20, 24, 20, 18, 17], "L": [16, 16, 16, 16, 16, 16, 31],
        "M": [17, 27, 21, 21, 17, 17, 17], "N": [17, 17, 25, 21, 19, 17, 17], "O": [14, 17, 17, 17, 17, 17, 14],
        "P": [30, 17, 17, 30, 16, 16, 16], "Q": [14, 17, 17, 17, 21, 18, 13], "R": [30, 17, 17, 30, 20, 18, 17],
        "S": [15, 16, 16, 14, 1, 1, 30], "T": [31, 4, 4, 4, 4, 4, 4], "U": [17, 17, 17, 17, 17, 17, 14],
        "V": [17, 17, 17, 17, 17, 10, 4], "W": [17, 17, 17, 21, 21, 21, 10], "X": [17, 17, 10, 4, 10, 17, 17],
        "Y": [17, 17, 17, 10, 4, 4, 4], "Z": [31, 1, 2, 4, 8, 16, 31],
        " ": [0, 0, 0, 0, 0, 0, 0], ".": [0, 0, 0, 0, 0, 12, 12], ",": [0, 0, 0, 0, 12, 4, 8],
        ":": [0, 12, 12, 0, 12, 12, 0], "-": [0, 0, 0, 31, 0, 0, 0], "+": [0, 4, 4, 31, 4, 4, 0],
        "=": [0, 0, 31, 0, 31, 0, 0], "/": [1, 1, 2, 4, 8, 16, 16], "(": [2, 4, 8, 8, 8, 4, 2],
        ")": [8, 4, 2, 2, 2, 4, 8], "%": [24, 25, 2, 4, 8, 19, 3], "'": [4, 4, 8, 0, 0, 0, 0],
        "_": [0, 0, 0, 0, 0, 0, 31], "#": [10, 10, 31, 10, 31, 10, 10], "!": [4, 4, 4, 4, 4, 0, 4],
        "?": [14, 17, 1, 2, 4, 0, 4], "<": [2, 4, 8, 16, 8, 4, 2], ">": [8, 4, 2, 1, 2, 4, 8],
        "*": [0, 4, 21, 14, 21, 4, 0], "√": [3, 2, 2, 2, 18, 10, 4], "ᾱ": [0, 14, 0, 13, 18, 18, 13],
        "α": [0, 0, 13, 18, 18, 18, 13], "ε": [0, 0, 14, 16, 12, 16, 14], "[": [14, 8, 8, 8, 8, 8, 14],
        "]": [14, 2, 2, 2, 2, 2, 14], "&": [12, 18, 20, 8, 21, 18, 13], "\"": [10, 10, 0, 0, 0, 0, 0],
    ]

    /// The pixel width of `text` at `scale` (one blank column between glyphs).
    public static func width(of text: String, scale: Int = 1) -> Int {
        max(0, text.count * (glyphWidth + 1) - 1) * scale
    }

    /// Draws `text` with its top-left corner at (x, y); pixels outside the image are skipped.
    /// Characters without a glyph draw as a small box.
    public static func draw(_ text: String, on image: inout Image, x: Int, y: Int, color: [UInt8], scale: Int = 1) {
        var cursor = x
        for character in text {
            let upper = Character(character.uppercased().count == 1 ? character.uppercased() : String(character))
            let rows = glyphs[character] ?? glyphs[upper] ?? [31, 17, 17, 17, 17, 17, 31]
            for (row, bits) in rows.enumerated() {
                for column in 0..<glyphWidth where bits & (16 >> column) != 0 {
                    for dy in 0..<scale { for dx in 0..<scale {
                        image.setPixel(x: cursor + column * scale + dx, y: y + row * scale + dy, color: color)
                    } }
                }
            }
            cursor += (glyphWidth + 1) * scale
        }
    }
}

extension Image {
    /// Sets one pixel (ignored outside the image); `color` gives RGB and optionally alpha.
    public mutating func setPixel(x: Int, y: Int, color: [UInt8]) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let base = (y * width + x) * channels
        for c in 0..<min(channels, color.count) { pixels[base + c] = color[c] }
        if channels == 4 && color.count == 3 { pixels[base + 3] = 255 }
    }

    /// A copy with a band of `height` pixels above it holding `text` (for labelled grids).
    public func labelled(_ text: String, bandHeight: Int = 10, background: [UInt8] = [255, 255, 255],
                         color: [UInt8] = [0, 0, 0]) throws -> Image {
        var canvas = try Image(width: width, height: height + bandHeight, channels: channels, color: background + (channels == 4 ? [255] : []))
        canvas.paste(self, x: 0, y: bandHeight)
        let scale = max(1, (bandHeight - 2) / BitmapFont.glyphHeight)
        let textWidth = BitmapFont.width(of: text, scale: scale)
        BitmapFont.draw(text, on: &canvas, x: max(1, (width - textWidth) / 2), y: (bandHeight - BitmapFont.glyphHeight * scale) / 2,
                        color: color, scale: scale)
        return canvas
    }
}
