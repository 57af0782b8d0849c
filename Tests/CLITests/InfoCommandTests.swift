// End-to-end tests of `diffuse info` and `diffuse --version` on the built binary.
import Foundation
import TestSupport
import XCTest

struct ManifestRowMissing: Error, CustomStringConvertible {
    var description: String
}

final class InfoCommandTests: XCTestCase {
    /// Reads `rgba8_sha256` for one file from a corpus manifest.
    private func manifestHash(_ folder: String, _ file: String) throws -> String {
        let text = try String(contentsOf: try SharedData.url("\(folder)/MANIFEST.tsv"), encoding: .utf8)
        let rows = text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        guard let header = rows.first, let column = header.firstIndex(of: "rgba8_sha256"),
              let row = rows.first(where: { $0.first == file }), column < row.count else {
            throw ManifestRowMissing(description: "\(folder)/MANIFEST.tsv has no row for \(file)")
        }
        return row[column]
    }

    func testInfoOnAPNGPrintsFactsAndHash() throws {
        let path = try SharedData.url("corpora/pngsuite/ct1n0g04.png").path
        let result = try DiffuseBinary.run(["info", path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains(try manifestHash("corpora/pngsuite", "ct1n0g04.png")), result.stdout)
        XCTAssertTrue(result.stdout.contains("PNG"), result.stdout)
        XCTAssertTrue(result.stdout.contains("32x32"), result.stdout)
        XCTAssertTrue(result.stdout.contains("Title"), result.stdout)  // tEXt chunk
    }

    func testInfoJSONOnAJPEG() throws {
        let path = try SharedData.url("corpora/jpeg/testorig-progressive.jpg").path
        let result = try DiffuseBinary.run(["info", path, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["format"] as? String, "JPEG")
        XCTAssertEqual(object?["width"] as? Int, 227)
        XCTAssertEqual(object?["height"] as? Int, 149)
        XCTAssertEqual(object?["interlace"] as? String, "progressive")
        XCTAssertEqual(object?["bit_depth"] as? Int, 8)
        XCTAssertEqual(object?["rgba8_sha256"] as? String, try manifestHash("corpora/jpeg", "testorig-progressive.jpg"))
    }

    func testInfoOnABadFileFailsCleanly() throws {
        for name in ["corpora/bad/testorig-trunc50.jpg", "corpora/bad/text-named.png", "corpora/pngsuite/xcsn0g01.png"] {
            let path = try SharedData.url(name).path
            let result = try DiffuseBinary.run(["info", path])
            XCTAssertFalse(result.terminatedBySignal, "\(name) crashed")
            XCTAssertNotEqual(result.status, 0, name)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("error: \(path): "), result.stderr)
            XCTAssertTrue(result.stdout.isEmpty, result.stdout)
        }
    }

    func testInfoOnAMissingFileFailsCleanly() throws {
        let result = try DiffuseBinary.run(["info", "/nonexistent/diffuse-test.png"])
        XCTAssertFalse(result.terminatedBySignal)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("/nonexistent/diffuse-test.png"), result.stderr)
    }

    func testVersion() throws {
        let result = try DiffuseBinary.run(["--version"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
    }
}
