// Images that arrive in requests: base64 (or data: URLs) decoded within limits, sized and masked.
import Foundation
import Imaging

enum RequestImages {
    /// Decodes a base64 PNG or JPEG (a `data:image/...;base64,` prefix is allowed).
    static func decode(_ text: String, field: String, limits: ServerLimits) throws -> Image {
        var payload = Substring(text)
        if payload.hasPrefix("data:"), let comma = payload.firstIndex(of: ",") { payload = payload[payload.index(after: comma)...] }
        guard let data = Data(base64Encoded: String(payload), options: [.ignoreUnknownCharacters]), !data.isEmpty else {
            throw APIError.badField(field, "is not a base64-encoded image")
        }
        let decoder = ImageDecoder(maxPixels: limits.maxImagePixels, maxFileBytes: limits.maxBodyBytes)
        do {
            return try decoder.decode([UInt8](data), name: field).image
        } catch {
            throw APIError.badField(field, "cannot be decoded: \(error)")
        }
    }

    /// The image at `width`×`height` (resized when it differs).
    static func sized(_ image: Image, width: Int, height: Int, field: String) throws -> Image {
        guard image.width != width || image.height != height else { return image }
        do { return try image.resized(width: width, height: height) } catch {
            throw APIError.badField(field, "cannot be resized to \(width)×\(height): \(error)")
        }
    }

    /// A mask image as one value per pixel in [0, 1] (white repaints), resized to the image.
    static func mask(_ image: Image, width: Int, height: Int, field: String) throws -> [Float] {
        let sizedMask = try sized(image, width: width, height: height, field: field)
        let channels = sizedMask.channels
        var values = [Float](repeating: 0, count: width * height)
        for p in 0..<(width * height) {
            var level = Float(sizedMask.pixels[p * channels])
            if channels >= 3 { level = max(level, Float(sizedMask.pixels[p * channels + 1]), Float(sizedMask.pixels[p * channels + 2])) }
            // A transparent pixel keeps (canvas masks paint on a clear background).
            if channels == 4 || channels == 2 { level *= Float(sizedMask.pixels[p * channels + channels - 1]) / 255 }
            values[p] = level / 255
        }
        return values
    }

    static func pngBase64(_ image: Image, textChunks: [TextChunk] = []) throws -> String {
        Data(try image.pngData(textChunks: textChunks)).base64EncodedString()
    }
}
