// Image: an 8-bit RGB or RGBA picture with interleaved, row-major pixels.

/// An 8-bit image with 3 (RGB) or 4 (RGBA) interleaved channels, row-major, no row padding.
public struct Image: Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    /// width * height * channels bytes.
    public var pixels: [UInt8]

    /// Wraps existing pixels; throws when the sizes disagree.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws {
        guard width > 0, height > 0 else {
            throw ImageError.invalidArgument("image size must be positive, got \(width)x\(height)")
        }
        guard channels == 3 || channels == 4 else {
            throw ImageError.invalidArgument("channels must be 3 (RGB) or 4 (RGBA), got \(channels)")
        }
        let (area, areaOverflow) = width.multipliedReportingOverflow(by: height)
        let (bytes, bytesOverflow) = area.multipliedReportingOverflow(by: channels)
        guard !areaOverflow, !bytesOverflow, bytes == pixels.count else {
            throw ImageError.invalidArgument(
                "a \(width)x\(height) image with \(channels) channels does not fit \(pixels.count) bytes")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// A blank image filled with one colour (`color` has `channels` entries).
    public init(width: Int, height: Int, channels: Int = 3, color: [UInt8]? = nil) throws {
        guard channels == 3 || channels == 4 else {
            throw ImageError.invalidArgument("channels must be 3 (RGB) or 4 (RGBA), got \(channels)")
        }
        let fill = color ?? [UInt8](repeating: 0, count: channels)
        guard fill.count == channels else {
            throw ImageError.invalidArgument("fill colour has \(fill.count) components for a \(channels)-channel image")
        }
        let (area, areaOverflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !areaOverflow, area <= Int(UInt32.max) else {
            throw ImageError.invalidArgument("cannot make a \(width)x\(height) image")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        for index in stride(from: 0, to: pixels.count, by: channels) {
            for c in 0..<channels { pixels[index + c] = fill[c] }
        }
        try self.init(width: width, height: height, channels: channels, pixels: pixels)
    }

    /// Internal initialiser for sizes the caller has already validated.
    init(validatedWidth width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    public var hasAlpha: Bool { channels == 4 }

    /// The value of channel `c` at (x, y).
    public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }
}
