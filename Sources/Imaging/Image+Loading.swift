// Image loading for use: decode, then optionally apply the EXIF orientation.
import Foundation

extension Image {
    /// Loads a PNG or JPEG. With `applyOrientation`, a JPEG's EXIF orientation is applied so
    /// the pixels come out upright. RGBA when the file has alpha or tRNS, else RGB.
    public static func load(from url: URL, maxPixels: Int = ImageDecoder.defaultMaxPixels,
                            applyOrientation: Bool = true) throws -> Image {
        let decoded = try ImageDecoder(maxPixels: maxPixels).decode(contentsOf: url)
        return applyOrientation ? decoded.image.oriented(exif: decoded.metadata.orientation) : decoded.image
    }
}
