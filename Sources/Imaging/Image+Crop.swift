// Image cropping and padding.

extension Image {
    /// The rectangle at (x, y) of the given size; it must lie inside the image.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) throws -> Image {
        guard cropWidth > 0, cropHeight > 0, x >= 0, y >= 0, x <= width - cropWidth, y <= height - cropHeight else {
            throw ImageError.invalidArgument("crop \(cropWidth)x\(cropHeight) at (\(x), \(y)) is outside the \(width)x\(height) image")
        }
        var result = [UInt8](repeating: 0, count: cropWidth * cropHeight * channels)
        let rowBytes = cropWidth * channels
        for row in 0..<cropHeight {
            let from = ((y + row) * width + x) * channels
            result.replaceSubrange(row * rowBytes..<(row + 1) * rowBytes, with: pixels[from..<from + rowBytes])
        }
        return Image(validatedWidth: cropWidth, height: cropHeight, channels: channels, pixels: result)
    }

    /// The centred rectangle of the given size (odd leftovers go to the right and bottom).
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) throws -> Image {
        guard cropWidth <= width, cropHeight <= height else {
            throw ImageError.invalidArgument("centre crop \(cropWidth)x\(cropHeight) is larger than the \(width)x\(height) image")
        }
        return try cropped(x: (width - cropWidth) / 2, y: (height - cropHeight) / 2, width: cropWidth, height: cropHeight)
    }

    /// Adds borders of `color` (one value per channel) on each side.
    public func padded(top: Int, left: Int, bottom: Int, right: Int, color: [UInt8]? = nil) throws -> Image {
        guard top >= 0, left >= 0, bottom >= 0, right >= 0 else {
            throw ImageError.invalidArgument("padding must not be negative")
        }
        var canvas = try Image(width: width + left + right, height: height + top + bottom, channels: channels, color: color)
        canvas.paste(self, x: left, y: top)
        return canvas
    }

    /// Pads equally on both sides (extra pixel right/bottom) to reach `width` x `height`.
    public func padded(toWidth targetWidth: Int, height targetHeight: Int, color: [UInt8]? = nil) throws -> Image {
        guard targetWidth >= width, targetHeight >= height else {
            throw ImageError.invalidArgument("cannot pad a \(width)x\(height) image to the smaller \(targetWidth)x\(targetHeight)")
        }
        let left = (targetWidth - width) / 2, top = (targetHeight - height) / 2
        return try padded(top: top, left: left, bottom: targetHeight - height - top, right: targetWidth - width - left, color: color)
    }

    /// Copies `image` (same channel count, converted if not) with its top-left at (x, y), clipped to this image.
    public mutating func paste(_ image: Image, x: Int, y: Int) {
        let source = channels == image.channels ? image : (channels == 4 ? image.withAlpha() : image.composited())
        for row in 0..<source.height {
            let targetY = y + row
            guard targetY >= 0, targetY < height else { continue }
            let firstX = max(0, x), lastX = min(width, x + source.width)
            guard firstX < lastX else { continue }
            let from = (row * source.width + (firstX - x)) * channels
            let to = (targetY * width + firstX) * channels
            let count = (lastX - firstX) * channels
            pixels.replaceSubrange(to..<to + count, with: source.pixels[from..<from + count])
        }
    }
}
