// `diffuse info FILE` for image files: decodes the file and reports header facts and the RGBA8 hash.
import Foundation
import Imaging

/// What `info` prints for an image file.
struct ImageFileReport: Encodable {
    var file: String
    var format: String
    var width: Int
    var height: Int
    var colorType: String
    var pngColorType: Int?
    var components: Int
    var bitDepth: Int
    var interlace: String
    var hasAlpha: Bool
    var orientation: Int
    var textChunks: [TextChunk]
    var rgba8SHA256: String

    enum CodingKeys: String, CodingKey {
        case file, format, width, height, components, interlace, orientation
        case colorType = "color_type", pngColorType = "png_color_type", bitDepth = "bit_depth"
        case hasAlpha = "has_alpha", textChunks = "text_chunks", rgba8SHA256 = "rgba8_sha256"
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func text() -> String {
        var colour = colorType
        if let type = pngColorType { colour = "\(type) (\(colorType))" }
        var lines = [
            "file:         \(file.terminalSafe)",
            "format:       \(format)",
            "size:         \(width)x\(height)",
            "color type:   \(colour), \(components) component\(components == 1 ? "" : "s")",
            "bit depth:    \(bitDepth)",
            "interlace:    \(interlace)",
            "alpha:        \(hasAlpha ? "yes" : "no")",
        ]
        if format == ImageFormat.jpeg.rawValue { lines.append("orientation:  \(orientation)") }
        if textChunks.isEmpty {
            lines.append("text chunks:  none")
        } else {
            lines.append("text chunks:  \(textChunks.count)")
            for chunk in textChunks {
                lines.append("  \(chunk.kind.rawValue) \(chunk.key.terminalSafe): \(chunk.value.terminalSafe)")
            }
        }
        lines.append("rgba8 sha256: \(rgba8SHA256)")
        return lines.joined(separator: "\n")
    }
}

extension InfoCommand {
    /// Decodes an image file; failures become "<path as given>: <reason>".
    static func imageFileReport(path: String) throws -> ImageFileReport {
        let decoded: DecodedImage
        do {
            decoded = try ImageDecoder().decode(contentsOf: URL(fileURLWithPath: path))
        } catch let error as ImageError {
            throw CommandFailure(message: "\(path): \(error.reason)")
        }
        let metadata = decoded.metadata
        return ImageFileReport(
            file: path, format: metadata.format.rawValue, width: metadata.width, height: metadata.height,
            colorType: metadata.colorType, pngColorType: metadata.pngColorType, components: metadata.components,
            bitDepth: metadata.bitDepth, interlace: metadata.interlace, hasAlpha: metadata.hasAlpha,
            orientation: metadata.orientation, textChunks: metadata.textChunks, rgba8SHA256: decoded.rgba8SHA256)
    }
}
