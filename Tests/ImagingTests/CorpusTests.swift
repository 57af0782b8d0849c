// Every file in ../shared/corpora (and the photos) decodes to its manifest hash or is rejected with an ImageError.
import Foundation
import Imaging
import TestSupport
import XCTest

final class CorpusTests: XCTestCase {
    /// Checks each row; returns how many decoded and how many were rejected.
    @discardableResult
    private func check(_ folder: String, file: StaticString = #filePath, line: UInt = #line) throws -> (Int, Int) {
        let entries = try CorpusManifest.entries(folder)
        XCTAssertFalse(entries.isEmpty, "\(folder) manifest is empty", file: file, line: line)
        var decoded = 0, rejected = 0
        let decoder = ImageDecoder()
        for entry in entries {
            if entry.expected == "reject" {
                XCTAssertThrowsError(try decoder.decode(contentsOf: entry.url), "\(folder)/\(entry.file) should be rejected") { error in
                    guard let imageError = error as? ImageError else {
                        return XCTFail("\(entry.file): not an ImageError: \(error)")
                    }
                    XCTAssertEqual(imageError.file, entry.url.path, "error should name the file")
                    XCTAssertFalse(imageError.reason.isEmpty)
                }
                rejected += 1
                continue
            }
            XCTAssertEqual(entry.expected, "decodes", "\(entry.file): unknown expectation")
            do {
                let result = try decoder.decode(contentsOf: entry.url)
                if entry.sha256 != "-" {
                    XCTAssertEqual(result.rgba8SHA256, entry.sha256, "\(folder)/\(entry.file) pixel hash")
                }
                if let width = Int(entry.width), let height = Int(entry.height) {
                    XCTAssertEqual(result.image.width, width, "\(entry.file) width")
                    XCTAssertEqual(result.image.height, height, "\(entry.file) height")
                }
                if let depth = Int(entry.bitDepth) {
                    XCTAssertEqual(result.metadata.bitDepth, depth, "\(entry.file) bit depth")
                }
                if result.metadata.format == .png, let type = Int(entry.colorType) {
                    XCTAssertEqual(result.metadata.pngColorType, type, "\(entry.file) colour type")
                }
                decoded += 1
            } catch {
                XCTFail("\(folder)/\(entry.file) should decode: \(error)")
            }
        }
        return (decoded, rejected)
    }

    func testPngSuite() throws {
        let (decoded, rejected) = try check("corpora/pngsuite")
        XCTAssertEqual(decoded, 328)
        XCTAssertEqual(rejected, 14)
    }

    func testJPEGCorpus() throws {
        let (decoded, rejected) = try check("corpora/jpeg")
        XCTAssertEqual(decoded, 12)
        XCTAssertEqual(rejected, 1)
    }

    func testBadCorpus() throws {
        try check("corpora/bad")
    }

    func testPhotos() throws {
        try check("photos")
    }

    func testTwelveBitJPEGIsUnsupported() throws {
        let url = try SharedData.url("corpora/jpeg/monkey12.jpg")
        XCTAssertThrowsError(try ImageDecoder().decode(contentsOf: url)) { error in
            guard case .unsupported(_, let reason)? = error as? ImageError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("precision 12"), reason)
        }
    }

    func testTruncatedJPEGIsCorruptNotGray() throws {
        let url = try SharedData.url("corpora/bad/testorig-trunc50.jpg")
        XCTAssertThrowsError(try ImageDecoder().decode(contentsOf: url)) { error in
            guard case .corrupt(_, let reason)? = error as? ImageError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("Premature end") || reason.contains("Corrupt"), reason)
        }
    }

    func testHugeHeadersHitThePixelCap() throws {
        for name in ["corpora/bad/huge-ihdr-100000x100000.png", "corpora/bad/huge-sof-65500x65500.jpg"] {
            let url = try SharedData.url(name)
            XCTAssertThrowsError(try ImageDecoder().decode(contentsOf: url)) { error in
                guard case .tooLarge? = error as? ImageError else { return XCTFail("\(name): \(error)") }
            }
        }
    }

    func testPixelCapIsConfigurable() throws {
        let url = try SharedData.url("corpora/pngsuite/basn2c08.png")  // 32x32
        XCTAssertNoThrow(try ImageDecoder(maxPixels: 32 * 32).decode(contentsOf: url))
        XCTAssertThrowsError(try Image.load(from: url, maxPixels: 32 * 32 - 1)) { error in
            guard case .tooLarge? = error as? ImageError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try ImageDecoder(maxFileBytes: 100).decode(contentsOf: url)) { error in
            guard case .tooLarge? = error as? ImageError else { return XCTFail("\(error)") }
        }
        let jpeg = try SharedData.url("corpora/jpeg/testorig.jpg")  // 227x149
        XCTAssertThrowsError(try ImageDecoder(maxPixels: 1000).decode(contentsOf: jpeg)) { error in
            guard case .tooLarge? = error as? ImageError else { return XCTFail("\(error)") }
        }
    }

    func testCodecIsChosenByContentNotName() throws {
        let jpegNamedPNG = try ImageDecoder().decode(contentsOf: try SharedData.url("corpora/bad/jpeg-named.png"))
        XCTAssertEqual(jpegNamedPNG.metadata.format, .jpeg)
        let pngNamedJPEG = try ImageDecoder().decode(contentsOf: try SharedData.url("corpora/bad/png-named.jpg"))
        XCTAssertEqual(pngNamedJPEG.metadata.format, .png)
        XCTAssertThrowsError(try ImageDecoder().decode(contentsOf: try SharedData.url("corpora/bad/text-named.png"))) { error in
            guard case .notAnImage(_, let reason)? = error as? ImageError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("not a PNG or JPEG"), reason)
        }
    }

    /// CMYK has no manifest hash: Pillow stored testorig's RGB as inverted CMYK with K = 0 ink,
    /// so the converted pixels must be close to testorig.jpg's own decode.
    func testAdobeCMYKConvertsToRGB() throws {
        let cmyk = try ImageDecoder().decode(contentsOf: try SharedData.url("corpora/jpeg/testorig-cmyk.jpg"))
        let reference = try ImageDecoder().decode(contentsOf: try SharedData.url("corpora/jpeg/testorig.jpg"))
        XCTAssertEqual(cmyk.metadata.colorType, "cmyk")
        XCTAssertEqual(cmyk.image.channels, 3)
        XCTAssertEqual(cmyk.image.width, reference.image.width)
        let error = zip(cmyk.image.pixels, reference.image.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +)
        let mean = Double(error) / Double(cmyk.image.pixels.count)
        XCTAssertLessThan(mean, 6.0, "mean absolute difference to testorig.jpg")
    }

    /// libpng only warns about a bad CRC on an ancillary chunk; the toolkit must still reject it.
    func testAncillaryChunkCRCErrorIsRejected() throws {
        var bytes = [UInt8](try Data(contentsOf: try SharedData.url("corpora/pngsuite/ct1n0g04.png")))
        let type = Array("tEXt".utf8)
        guard let at = (0..<(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == type }) else {
            return XCTFail("ct1n0g04.png has no tEXt chunk")
        }
        let length = bytes[(at - 4)..<at].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertNoThrow(try ImageDecoder().decode(bytes, name: "intact.png"))
        bytes[at + 4 + length] ^= 0xFF  // first CRC byte of that chunk
        XCTAssertThrowsError(try ImageDecoder().decode(bytes, name: "crc.png")) { error in
            guard case .corrupt(let file, let reason)? = error as? ImageError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, "crc.png")
            XCTAssertTrue(reason.contains("CRC"), reason)
        }
    }

    func testPNGTextChunksAreRead() throws {
        let result = try ImageDecoder().decode(contentsOf: try SharedData.url("corpora/pngsuite/ct1n0g04.png"))
        XCTAssertFalse(result.metadata.textChunks.isEmpty)
        XCTAssertTrue(result.metadata.textChunks.contains { $0.key == "Title" }, "\(result.metadata.textChunks)")
        let compressed = try ImageDecoder().decode(contentsOf: try SharedData.url("corpora/pngsuite/ctzn0g04.png"))
        XCTAssertTrue(compressed.metadata.textChunks.contains { $0.kind == .zTXt }, "\(compressed.metadata.textChunks)")
    }
}
