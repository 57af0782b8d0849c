// Image channel conversions (RGB <-> RGBA, compositing on a background) and the RGBA8 hash.

extension Image {
    /// RGBA pixels (alpha 255 added to RGB).
    public func withAlpha() -> Image {
        channels == 4 ? self : copyingRGB(toChannels: 4, fill: 255)
    }

    /// RGB pixels with the alpha channel discarded as is (no compositing).
    public func droppingAlpha() -> Image {
        channels == 3 ? self : copyingRGB(toChannels: 3, fill: 0)
    }

    /// The red, green and blue bytes of each pixel in an image of `count` channels (3 or 4),
    /// any fourth channel set to `fill`.
    private func copyingRGB(toChannels count: Int, fill: UInt8) -> Image {
        var out = [UInt8](repeating: fill, count: width * height * count)
        let from = channels
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for index in 0..<(width * height) {
                    for c in 0..<3 { target[count * index + c] = source[from * index + c] }
                }
            }
        }
        return Image(validatedWidth: width, height: height, channels: count, pixels: out)
    }

    /// RGB pixels with alpha composited over `background` (white by default).
    public func composited(on background: (UInt8, UInt8, UInt8) = (255, 255, 255)) -> Image {
        if channels == 3 { return self }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let back = [UInt32(background.0), UInt32(background.1), UInt32(background.2)]
        pixels.withUnsafeBufferPointer { source in
            rgb.withUnsafeMutableBufferPointer { target in
                for index in 0..<(width * height) {
                    let alpha = UInt32(source[4 * index + 3])
                    for c in 0..<3 {
                        let value = UInt32(source[4 * index + c]) * alpha + back[c] * (255 - alpha)
                        target[3 * index + c] = UInt8((value + 127) / 255)
                    }
                }
            }
        }
        return Image(validatedWidth: width, height: height, channels: 3, pixels: rgb)
    }

    /// SHA-256 (hex) of the pixels as 8-bit RGBA, row-major, width*height*4 bytes.
    public func rgba8SHA256() -> String {
        SHA256.hexDigest(withAlpha().pixels)
    }
}
