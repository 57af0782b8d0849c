// Image flips, rotations and EXIF orientation (1...8) applied to stored pixels.

extension Image {
    /// The upright image for an EXIF orientation value (1 and unknown values return self).
    public func oriented(exif orientation: Int) -> Image {
        switch orientation {
        case 2: return flippedHorizontally()
        case 3: return rotated180()
        case 4: return flippedVertically()
        case 5: return transposed()
        case 6: return rotatedClockwise()
        case 7: return rotatedClockwise().flippedVertically()  // transverse
        case 8: return rotatedCounterclockwise()
        default: return self
        }
    }

    public func flippedHorizontally() -> Image { remapped(width: width, height: height) { x, y in (width - 1 - x, y) } }
    public func flippedVertically() -> Image { remapped(width: width, height: height) { x, y in (x, height - 1 - y) } }
    public func rotated180() -> Image { remapped(width: width, height: height) { x, y in (width - 1 - x, height - 1 - y) } }
    /// Mirror across the main diagonal (EXIF 5).
    public func transposed() -> Image { remapped(width: height, height: width) { x, y in (y, x) } }
    /// 90 degrees clockwise (EXIF 6 is corrected by this).
    public func rotatedClockwise() -> Image { remapped(width: height, height: width) { x, y in (y, height - 1 - x) } }
    /// 90 degrees counterclockwise (EXIF 8 is corrected by this).
    public func rotatedCounterclockwise() -> Image { remapped(width: height, height: width) { x, y in (width - 1 - y, x) } }

    /// A new image whose pixel (x, y) is this image's pixel at `source(x, y)`.
    private func remapped(width newWidth: Int, height newHeight: Int, source: (Int, Int) -> (Int, Int)) -> Image {
        var result = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        let channels = self.channels, width = self.width
        pixels.withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { output in
                for y in 0..<newHeight {
                    for x in 0..<newWidth {
                        let (sx, sy) = source(x, y)
                        let from = (sy * width + sx) * channels, to = (y * newWidth + x) * channels
                        for c in 0..<channels { output[to + c] = input[from + c] }
                    }
                }
            }
        }
        return Image(validatedWidth: newWidth, height: newHeight, channels: channels, pixels: result)
    }
}
