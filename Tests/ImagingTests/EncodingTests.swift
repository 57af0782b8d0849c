// PNG and JPEG encoding: lossless PNG round trips with text chunks, close JPEG round trips, atomic writes.
import Foundation
import Imaging
import TestSupport
import XCTest

final class EncodingTests: XCTestCase {
    private func gradient(width: Int, height: Int, channels: Int) throws -> Image {
        var pixels: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                pixels += [UInt8((x * 255) / max(1, width - 1)), UInt8((y * 255) / max(1, height - 1)), UInt8((x * y) % 256)]
                if channels == 4 { pixels.append(UInt8((x + 3 * y) % 256)) }
            }
        }
        return try Image(width: width, height: height, channels: channels, pixels: pixels)
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testPNGRoundTripRGBAndRGBAWithText() throws {
        let chunks = [TextChunk(key: "prompt", value: "a red fox, café"),
                      TextChunk(key: "seed", value: "42"),
                      TextChunk(key: "Comment", value: "雪の中の狐", kind: .iTXt)]
        for channels in [3, 4] {
            let image = try gradient(width: 37, height: 23, channels: channels)
            let bytes = try image.pngData(textChunks: chunks)
            let decoded = try ImageDecoder().decode(bytes, name: "memory.png")
            XCTAssertEqual(decoded.image, image, "channels \(channels)")
            XCTAssertEqual(decoded.metadata.pngColorType, channels == 4 ? 6 : 2)
            XCTAssertEqual(decoded.metadata.textChunks.map(\.key), chunks.map(\.key))
            XCTAssertEqual(decoded.metadata.textChunks.map(\.value), chunks.map(\.value))
            XCTAssertEqual(decoded.metadata.textChunks.last?.kind, .iTXt)
            XCTAssertEqual(decoded.metadata.textChunks.first?.kind, .tEXt)
        }
    }

    /// Gray PNGs are decoded to RGB with R = G = B, so a gray image written by libpng from the
    /// gray-converted corpus file must hash the same as the original.
    func testGrayPNGDecodesToEqualChannels() throws {
        let decoded = try ImageDecoder().decode(contentsOf: try SharedData.url("corpora/pngsuite/basn0g08.png"))
        XCTAssertEqual(decoded.image.channels, 3)
        for index in stride(from: 0, to: decoded.image.pixels.count, by: 3) {
            XCTAssertEqual(decoded.image.pixels[index], decoded.image.pixels[index + 1])
            XCTAssertEqual(decoded.image.pixels[index], decoded.image.pixels[index + 2])
        }
        let again = try ImageDecoder().decode(try decoded.image.pngData(), name: "gray.png")
        XCTAssertEqual(again.rgba8SHA256, decoded.rgba8SHA256)
    }

    func testInvalidTextKeyIsRejected() throws {
        let image = try gradient(width: 4, height: 4, channels: 3)
        XCTAssertThrowsError(try image.pngData(textChunks: [TextChunk(key: "", value: "x")]))
        XCTAssertThrowsError(try image.pngData(textChunks: [TextChunk(key: String(repeating: "k", count: 80), value: "x")]))
    }

    func testJPEGRoundTripIsClose() throws {
        // Smooth content (JPEG's case): three linear ramps.
        var pixels: [UInt8] = []
        for y in 0..<48 { for x in 0..<64 { pixels += [UInt8(x * 4), UInt8(y * 5), UInt8((x + y) * 2)] } }
        let image = try Image(width: 64, height: 48, channels: 3, pixels: pixels)
        for quality in [75, 95] {
            let bytes = try image.jpegData(quality: quality)
            XCTAssertEqual(Array(bytes.prefix(3)), [0xFF, 0xD8, 0xFF])
            let decoded = try ImageDecoder().decode(bytes, name: "memory.jpg")
            XCTAssertEqual(decoded.metadata.format, .jpeg)
            XCTAssertEqual(decoded.image.width, 64)
            XCTAssertEqual(decoded.image.height, 48)
            let total = zip(decoded.image.pixels, image.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)
            let mean = Double(total) / Double(image.pixels.count)
            XCTAssertLessThan(mean, quality >= 90 ? 1.5 : 3.0, "quality \(quality)")
        }
        XCTAssertThrowsError(try image.jpegData(quality: 0))
    }

    /// A JPEG with an EXIF APP1 segment (big-endian TIFF, IFD0 holding Orientation = 6).
    func testEXIFOrientationIsReadAndApplied() throws {
        var pixels: [UInt8] = []
        for y in 0..<16 { for x in 0..<32 { pixels += [UInt8(x * 8), UInt8(y * 16), 128] } }
        let image = try Image(width: 32, height: 16, channels: 3, pixels: pixels)
        var jpeg = try image.jpegData(quality: 95)
        let tiff: [UInt8] = [0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8,  // "MM", 42, IFD0 at 8
                             0, 1,                                // one entry
                             0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0,  // Orientation, SHORT, 1, value 6
                             0, 0, 0, 0]                          // no next IFD
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        jpeg.insert(contentsOf: [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload, at: 2)
        let directory = try temporaryDirectory()
        let url = directory.appendingPathComponent("rotated.jpg")
        try Data(jpeg).write(to: url)
        let decoded = try ImageDecoder().decode(contentsOf: url)
        XCTAssertEqual(decoded.metadata.orientation, 6)
        XCTAssertEqual([decoded.image.width, decoded.image.height], [32, 16])  // stored pixels
        let upright = try Image.load(from: url)
        XCTAssertEqual([upright.width, upright.height], [16, 32])
        XCTAssertEqual(upright, decoded.image.rotatedClockwise())
        XCTAssertEqual(try Image.load(from: url, applyOrientation: false), decoded.image)
    }

    func testAtomicWritesLeaveOnlyTheFinalFile() throws {
        let directory = try temporaryDirectory()
        let image = try gradient(width: 8, height: 8, channels: 4)
        let png = directory.appendingPathComponent("out.png")
        try image.writePNG(to: png, textChunks: [TextChunk(key: "steps", value: "20")])
        try image.writePNG(to: png)  // replaces the existing file
        let jpeg = directory.appendingPathComponent("out.jpg")
        try image.writeJPEG(to: jpeg, quality: 90)
        XCTAssertEqual(try Image.load(from: png), image)
        XCTAssertEqual(try Image.load(from: jpeg).channels, 3)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(names, ["out.jpg", "out.png"])
        let missing = directory.appendingPathComponent("no-such-dir/out.png")
        XCTAssertThrowsError(try image.writePNG(to: missing)) { error in
            guard case .writeFailed(let file, _)? = error as? ImageError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, missing.path)
        }
    }

    func testMissingAndDirectoryInputsAreErrors() throws {
        let directory = try temporaryDirectory()
        XCTAssertThrowsError(try Image.load(from: directory.appendingPathComponent("absent.png"))) { error in
            guard case .unreadable? = error as? ImageError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try Image.load(from: directory)) { error in
            guard case .unreadable? = error as? ImageError else { return XCTFail("\(error)") }
        }
    }
}
