// Image channel conversions (RGB <-> RGBA, compositing on a background) and the RGBA8 hash.

extension Image {
    /// RGBA pixels (alpha 255 added to RGB).
    public func withAlpha() -> Image {
        if channels == 4 { return self }
        var rgba = [UInt8](repeating: 255, count: width * height * 4)
        pixels.withUnsafeBufferPointer { source in
            rgba.withUnsafeMutableBufferPointer { target in
                for index in 0..<(width * height) {
                    target[4 * index] = source[3 * index]
                    target[4 * index + 1] = source[3 * index + 1]
                    target[4 * index + 2] = source[3 * index + 2]
                }
            }
        }
        return Image(validatedWidth: width, height: height, channels: 4, pixels: rgba)
    }

    /// RGB pixels with the alpha channel discarded as is (no compositing).
    public func droppingAlpha() -> Image {
        if channels == 3 { return self }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeBufferPointer { source in
            rgb.withUnsafeMutableBufferPointer { target in
                for index in 0..<(width * height) {
                    target[3 * index] = source[4 * index]
                    target[3 * index + 1] = source[4 * index + 1]
                    target[3 * index + 2] = source[4 * index + 2]
                }
            }
        }
        return Image(validatedWidth: width, height: height, channels: 3, pixels: rgb)
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
