// Resize, crop, pad, grid, orientation and float conversion on small hand-made images.
import Imaging
import XCTest

final class GeometryTests: XCTestCase {
    /// A one-channel-pattern RGB image: R = values[i], G = 0, B = 255 - values[i].
    private func image(_ width: Int, _ height: Int, _ values: [UInt8]) throws -> Image {
        try Image(width: width, height: height, channels: 3, pixels: values.flatMap { [$0, 0, 255 - $0] })
    }

    private func reds(_ image: Image) -> [UInt8] { stride(from: 0, to: image.pixels.count, by: image.channels).map { image.pixels[$0] } }

    func testShrinkAveragesAreas() throws {
        // 4x2 -> 2x1: each output is the mean of a 2x2 block.
        let source = try image(4, 2, [0, 100, 200, 40, 20, 60, 0, 0])
        let small = try source.resized(width: 2, height: 1)
        XCTAssertEqual(reds(small), [45, 60])  // (0+100+20+60)/4, (200+40+0+0)/4
        // 3 -> 2 horizontally: fractional coverage 1.5 pixels each: (30 + 60/2)/1.5, (60/2 + 90)/1.5
        let odd = try image(3, 1, [30, 60, 90]).resized(width: 2, height: 1)
        XCTAssertEqual(reds(odd), [40, 80])
    }

    func testEnlargeIsBicubicAndKeepsConstants() throws {
        let flat = try image(3, 2, [77, 77, 77, 77, 77, 77]).resized(width: 7, height: 5)
        XCTAssertTrue(reds(flat).allSatisfy { $0 == 77 })
        // 2 -> 4: output centres at source x = -0.25, 0.25, 0.75, 1.25; taps clamp to the edges.
        // Keys a = -0.5: w(0.25) = 0.8671875, w(0.75) = 0.2265625, w(1.25) = -0.0703125, w(1.75) = -0.0234375.
        //   x = -0.25: 100 * w(1.25)                  = -7.03    -> clamped to 0
        //   x =  0.25: 100 * (w(0.75) + w(1.75))      = 20.3125  -> 20
        //   x =  0.75: 100 * (w(0.25) + w(1.25))      = 79.6875  -> 80
        //   x =  1.25: 100 * (1 - w(1.25))            = 107.03   -> 107 (Catmull-Rom overshoot)
        let ramp = try image(2, 1, [0, 100]).resized(width: 4, height: 1)
        XCTAssertEqual(reds(ramp), [0, 20, 80, 107])
    }

    func testCenterCropAndCrop() throws {
        let source = try image(4, 3, Array(0..<12).map { UInt8($0 * 10) })
        XCTAssertEqual(reds(try source.centerCropped(width: 2, height: 1)), [50, 60])
        XCTAssertEqual(reds(try source.cropped(x: 3, y: 1, width: 1, height: 2)), [70, 110])
        XCTAssertThrowsError(try source.cropped(x: 3, y: 0, width: 2, height: 1))
        XCTAssertThrowsError(try source.centerCropped(width: 5, height: 1))
    }

    func testPadding() throws {
        let source = try image(1, 1, [9])
        let padded = try source.padded(top: 1, left: 2, bottom: 0, right: 1, color: [1, 2, 3])
        XCTAssertEqual(padded.width, 4)
        XCTAssertEqual(padded.height, 2)
        XCTAssertEqual(reds(padded), [1, 1, 1, 1, 1, 1, 9, 1])
        let centred = try source.padded(toWidth: 3, height: 3)
        XCTAssertEqual(reds(centred), [0, 0, 0, 0, 9, 0, 0, 0, 0])
    }

    func testGridPlacesCellsWithPadding() throws {
        let a = try image(2, 2, [10, 10, 10, 10]), b = try image(1, 1, [20]), c = try image(2, 1, [30, 30])
        let grid = try Image.grid([a, b, c], columns: 2, padding: 1, background: [255, 255, 255])
        XCTAssertEqual(grid.width, 2 * 2 + 3)
        XCTAssertEqual(grid.height, 2 * 2 + 3)
        XCTAssertEqual(grid[1, 1, 0], 10)
        XCTAssertEqual(grid[2, 2, 0], 10)
        XCTAssertEqual(grid[0, 0, 0], 255)
        XCTAssertEqual(grid[4 + 0, 1 + 0, 0], 20)  // 1x1 centred in the 2x2 cell at x 4, y 1 -> offset (0, 0)
        XCTAssertEqual(grid[1, 4, 0], 30)          // 2x1 in the cell at y 4 -> offset y 0
        XCTAssertEqual(grid[4, 4, 0], 255)         // empty last cell
        XCTAssertThrowsError(try Image.grid([], columns: 2))
        XCTAssertThrowsError(try Image.grid([a], columns: 0))
    }

    func testOrientations() throws {
        // 2x3 image with distinct values; each EXIF orientation viewed upright.
        let source = try image(2, 3, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(reds(source.oriented(exif: 1)), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(reds(source.oriented(exif: 2)), [2, 1, 4, 3, 6, 5])
        XCTAssertEqual(reds(source.oriented(exif: 3)), [6, 5, 4, 3, 2, 1])
        XCTAssertEqual(reds(source.oriented(exif: 4)), [5, 6, 3, 4, 1, 2])
        let transposed = source.oriented(exif: 5)
        XCTAssertEqual([transposed.width, transposed.height], [3, 2])
        XCTAssertEqual(reds(transposed), [1, 3, 5, 2, 4, 6])
        XCTAssertEqual(reds(source.oriented(exif: 6)), [5, 3, 1, 6, 4, 2])
        XCTAssertEqual(reds(source.oriented(exif: 7)), [6, 4, 2, 5, 3, 1])
        XCTAssertEqual(reds(source.oriented(exif: 8)), [2, 4, 6, 1, 3, 5])
    }

    func testFloatPlanesRoundTrip() throws {
        var pixels: [UInt8] = []
        for value in 0..<256 { pixels += [UInt8(value), UInt8(255 - value), UInt8((value * 7) % 256)] }
        let source = try Image(width: 16, height: 16, channels: 3, pixels: pixels)
        let planes = source.floatPlanes()
        XCTAssertEqual(planes.count, 3 * 256)
        XCTAssertEqual(planes[0], -1)                 // R plane, pixel 0
        XCTAssertEqual(planes[255], 1)                // R plane, last pixel
        XCTAssertEqual(planes[256], 1)                // G plane, pixel 0
        XCTAssertEqual(try Image(planarRGB: planes, width: 16, height: 16), source)
    }

    func testPlanarRGBClampsAndRounds() throws {
        let made = try Image(planarRGB: [-3, 5, .nan, 0.0, 0.004, -0.004], width: 2, height: 1)
        // R plane: -3 -> 0, 5 -> 255; G plane: NaN -> 0, 0 -> 127.5 rounds to 128; B: 0.004 -> 128.01 -> 128, -0.004 -> 126.99 -> 127
        XCTAssertEqual(made.pixels, [0, 0, 128, 255, 128, 127])
        XCTAssertThrowsError(try Image(planarRGB: [0, 0], width: 1, height: 1))
    }

    func testAlphaIsCompositedOnWhiteForFloats() throws {
        let rgba = try Image(width: 1, height: 1, channels: 4, pixels: [0, 0, 0, 0])
        XCTAssertEqual(rgba.floatPlanes(), [1, 1, 1])
        let half = try Image(width: 1, height: 1, channels: 4, pixels: [0, 255, 0, 128])
        XCTAssertEqual(half.composited().pixels, [127, 255, 127])  // 255 * 127 / 255
    }
}
