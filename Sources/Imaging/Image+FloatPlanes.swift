// Image conversion to and from planar float RGB in [-1, 1] (the models' NCHW layout, N = 1).

extension Image {
    /// Planar RGB floats in [-1, 1], shape [3, height, width]; alpha is composited on white first.
    public func floatPlanes() -> [Float] {
        let rgb = composited()
        let area = width * height
        var planes = [Float](repeating: 0, count: 3 * area)  // [3, H, W]
        rgb.pixels.withUnsafeBufferPointer { source in
            planes.withUnsafeMutableBufferPointer { target in
                for index in 0..<area {
                    for c in 0..<3 { target[c * area + index] = Float(source[3 * index + c]) / 127.5 - 1 }
                }
            }
        }
        return planes
    }

    /// An RGB image from planar floats [3, height, width] in [-1, 1]: round((x + 1) * 127.5),
    /// clamped to 0...255 (NaN becomes 0).
    public init(planarRGB planes: [Float], width: Int, height: Int) throws {
        guard width > 0, height > 0, !width.multipliedReportingOverflow(by: height).overflow,
              planes.count == 3 * width * height else {
            throw ImageError.invalidArgument("planar RGB for \(width)x\(height) needs \(3 * max(0, width) * max(0, height)) floats, got \(planes.count)")
        }
        let area = width * height
        var pixels = [UInt8](repeating: 0, count: 3 * area)
        planes.withUnsafeBufferPointer { source in
            pixels.withUnsafeMutableBufferPointer { target in
                for index in 0..<area {
                    for c in 0..<3 {
                        let value = (source[c * area + index] + 1) * 127.5
                        target[3 * index + c] = value.isNaN ? 0 : UInt8(min(255, max(0, value)).rounded())
                    }
                }
            }
        }
        self.init(validatedWidth: width, height: height, channels: 3, pixels: pixels)
    }
}
