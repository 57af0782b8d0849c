// Image resizing: area averaging to shrink, bicubic (Keys, a = -0.5) to enlarge, per axis.

extension Image {
    /// A resized copy. Each axis shrinks by exact area averaging and enlarges by bicubic
    /// interpolation with clamped edges. RGBA is resampled premultiplied, so transparent
    /// pixels do not bleed their colour.
    public func resized(width newWidth: Int, height newHeight: Int) throws -> Image {
        guard newWidth > 0, newHeight > 0, newWidth <= 1 << 20, newHeight <= 1 << 20,
              newWidth * newHeight <= ImageDecoder.defaultMaxPixels else {
            throw ImageError.invalidArgument(
                "resize target \(newWidth)x\(newHeight) must be positive and at most \(ImageDecoder.defaultMaxPixels) pixels")
        }
        if newWidth == width && newHeight == height { return self }
        var values = pixels.map { Float($0) }  // [H, W, C]
        if channels == 4 { Self.premultiply(&values) }
        let horizontal = ResampleWeights(from: width, to: newWidth)
        values = horizontal.apply(values, outer: height, inner: channels, sourceStride: width)  // [H, W', C]
        let vertical = ResampleWeights(from: height, to: newHeight)
        values = vertical.apply(values, outer: 1, inner: newWidth * channels, sourceStride: height)  // [H', W', C]
        if channels == 4 { Self.unpremultiply(&values) }
        let bytes = values.map { UInt8(min(255, max(0, $0)).rounded()) }
        return Image(validatedWidth: newWidth, height: newHeight, channels: channels, pixels: bytes)
    }

    /// Scales so the image covers `width` x `height`, then centre-crops to exactly that size.
    public func resizedToFill(width targetWidth: Int, height targetHeight: Int) throws -> Image {
        guard targetWidth > 0, targetHeight > 0 else {
            throw ImageError.invalidArgument("fill target must be positive, got \(targetWidth)x\(targetHeight)")
        }
        let scale = max(Double(targetWidth) / Double(width), Double(targetHeight) / Double(height))
        let scaledWidth = max(targetWidth, Int((Double(width) * scale).rounded()))
        let scaledHeight = max(targetHeight, Int((Double(height) * scale).rounded()))
        return try resized(width: scaledWidth, height: scaledHeight).centerCropped(width: targetWidth, height: targetHeight)
    }

    private static func premultiply(_ values: inout [Float]) {
        for index in stride(from: 0, to: values.count, by: 4) {
            let alpha = values[index + 3] / 255
            for c in 0..<3 { values[index + c] *= alpha }
        }
    }

    private static func unpremultiply(_ values: inout [Float]) {
        for index in stride(from: 0, to: values.count, by: 4) {
            let alpha = values[index + 3] / 255
            for c in 0..<3 { values[index + c] = alpha > 0 ? values[index + c] / alpha : 0 }
        }
    }
}

/// For one axis: which source samples (and weights) make each output sample.
struct ResampleWeights {
    var starts: [Int] = []
    var weights: [[Float]] = []

    init(from source: Int, to target: Int) {
        if target < source {
            // Area averaging: output i covers source [i*s, (i+1)*s) with s = source/target.
            let scale = Double(source) / Double(target)
            for i in 0..<target {
                let low = Double(i) * scale, high = Double(i + 1) * scale
                let first = Int(low.rounded(.down)), last = min(source - 1, Int(high.rounded(.up)) - 1)
                var row: [Float] = []
                for j in first...max(first, last) {
                    let overlap = min(high, Double(j + 1)) - max(low, Double(j))
                    row.append(Float(max(0, overlap) / scale))
                }
                starts.append(first)
                weights.append(row)
            }
        } else {
            // Bicubic at pixel centres, taps clamped to the edges (folded into the weights).
            let scale = Double(source) / Double(target)
            for i in 0..<target {
                let center = (Double(i) + 0.5) * scale - 0.5
                let base = Int(center.rounded(.down))
                let first = max(0, base - 1), last = min(source - 1, base + 2)
                var row = [Float](repeating: 0, count: last - first + 1)
                for tap in (base - 1)...(base + 2) {
                    let clamped = min(source - 1, max(0, tap))
                    row[clamped - first] += Float(Self.cubic(center - Double(tap)))
                }
                starts.append(first)
                weights.append(row)
            }
        }
    }

    /// Keys' cubic convolution kernel with a = -0.5 (Catmull-Rom).
    static func cubic(_ x: Double) -> Double {
        let t = abs(x), a = -0.5
        if t <= 1 { return (a + 2) * t * t * t - (a + 3) * t * t + 1 }
        if t < 2 { return a * t * t * t - 5 * a * t * t + 8 * a * t - 4 * a }
        return 0
    }

    /// Resamples the middle axis of a [outer, sourceStride, inner] buffer to [outer, target, inner].
    func apply(_ values: [Float], outer: Int, inner: Int, sourceStride: Int) -> [Float] {
        let target = starts.count
        var result = [Float](repeating: 0, count: outer * target * inner)
        values.withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { output in
                for o in 0..<outer {
                    for t in 0..<target {
                        let outBase = (o * target + t) * inner
                        for (k, weight) in weights[t].enumerated() where weight != 0 {
                            let inBase = (o * sourceStride + starts[t] + k) * inner
                            for i in 0..<inner { output[outBase + i] += weight * input[inBase + i] }
                        }
                    }
                }
            }
        }
        return result
    }
}
