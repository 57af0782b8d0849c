// Reading input files: a folder, FIFO or missing file is one clear InputError naming the path,
// /proc files (size 0) are read whole, and invalid UTF-8 names its line and offset.
import FileIO
import Foundation
import XCTest

final class InputFileTests: XCTestCase {
    func testWhatIsNotARegularFileIsRefusedByName() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("input-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let fifo = folder.appendingPathComponent("fifo")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        let cases: [(URL, String)] = [(folder, "is a folder, expected a file"), (fifo, "is a FIFO, expected a regular file"),
                                      (URL(fileURLWithPath: "/dev/null"), "is a device, expected a regular file"),
                                      (folder.appendingPathComponent("missing"), "no such file")]
        for (url, reason) in cases {
            XCTAssertThrowsError(try InputFile.read(url)) { error in
                XCTAssertEqual(error as? InputError, InputError(location: url.path, reason: reason))
            }
        }
    }

    func testProcFilesAreReadWhole() throws {
        let status = try InputFile.readText(URL(fileURLWithPath: "/proc/self/status"))
        XCTAssertTrue(status.contains("Name:"), status)
    }

    func testInvalidUTF8NamesLineAndOffset() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("utf8-\(UUID().uuidString).txt")
        try Data([0x61, 0x0A, 0x62, 0xC3, 0xA9, 0x0A, 0x63, 0xFF, 0x0A]).write(to: url)
        XCTAssertThrowsError(try InputFile.readText(url)) { error in
            XCTAssertEqual(error as? InputError, InputError(location: url.path + ":3", reason: "is not valid UTF-8 text (byte offset 7)"))
        }
        XCTAssertThrowsError(try InputFile.read(url, maxBytes: 4)) { XCTAssertTrue("\($0)".contains("4-byte limit"), "\($0)") }
    }
}
