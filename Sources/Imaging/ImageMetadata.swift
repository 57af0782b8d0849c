// ImageMetadata: what a PNG or JPEG file says about itself (format, header facts, text chunks).

public enum ImageFormat: String, Codable {
    case png = "PNG"
    case jpeg = "JPEG"
}

/// A PNG text chunk (tEXt, zTXt or iTXt).
public struct TextChunk: Equatable, Codable {
    public enum Kind: String, Codable { case tEXt, zTXt, iTXt }
    public var key: String
    public var value: String
    public var kind: Kind

    public init(key: String, value: String, kind: Kind = .tEXt) {
        self.key = key
        self.value = value
        self.kind = kind
    }
}

/// Header facts of a decoded file, as stored (before any orientation is applied).
public struct ImageMetadata: Equatable {
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    /// PNG: "gray", "rgb", "palette", "gray+alpha", "rgba"; JPEG: "gray", "rgb", "ycbcr", "cmyk", "ycck".
    public var colorType: String
    /// PNG: the IHDR colour type number; nil for JPEG.
    public var pngColorType: Int?
    /// Channels stored in the file (PNG: per colour type; JPEG: components).
    public var components: Int
    /// Bits per sample as stored (PNG IHDR bit depth; JPEG sample precision).
    public var bitDepth: Int
    /// PNG: "none" or "adam7"; JPEG: "baseline", "extended", "progressive" or "lossless", plus "+arith".
    public var interlace: String
    /// PNG alpha channel or tRNS chunk present.
    public var hasAlpha: Bool
    /// PNG text chunks in file order (empty for JPEG).
    public var textChunks: [TextChunk]
    /// EXIF orientation 1...8 (1 when absent). Pixels are always returned as stored.
    public var orientation: Int
    /// Benign codec warnings that were ignored (invalid ancillary chunks and the like).
    public var ignoredWarnings: Int
}
