// Careless and hostile command lines: outputs that would overwrite each other, an empty output
// folder, and control characters from a file reaching the terminal.
import Foundation
import TestSupport
import XCTest

final class OutputSafetyTests: XCTestCase {
    func testTwoOutputFlagsNamingOneFileAreRefused() throws {
        let folder = try CLIFixture.temporaryDirectory()
        let image = folder.appendingPathComponent("x.png").path
        let same = folder.appendingPathComponent("./sub/../x.png").path
        let result = try DiffuseBinary.run(["generate", "apple", "--model", try CLIFixture.modelPath(),
                                            "-o", image, "--trajectory", same])
        assertCleanFailure(result, "-o and --trajectory on one file")
        XCTAssertTrue(result.stderr.contains("--output and --trajectory both name"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: image), "nothing written")
    }

    func testEmptyTrainingOutputIsRefused() throws {
        let folder = try CLIFixture.temporaryDirectory()
        let result = try DiffuseBinary.run(["train-vae", "--data", folder.path, "--out", ""])
        assertCleanFailure(result, "--out \"\"")
        XCTAssertTrue(result.stderr.contains("--out is empty"), result.stderr)
    }

    /// A prompt with an escape sequence is kept in the PNG, and `info` prints it escaped.
    func testControlCharactersArePrintedEscaped() throws {
        let folder = try CLIFixture.temporaryDirectory()
        let image = folder.appendingPathComponent("escape.png").path
        let prompt = "red \u{1b}[31mapple\u{7}"
        assertSuccess(try DiffuseBinary.run(["generate", prompt, "--model", try CLIFixture.modelPath(), "--steps", "1",
                                             "-o", image, "--quiet"]), "generate with an escape in the prompt")
        XCTAssertEqual(CLIFixture.textChunks(try CLIFixture.imageInfo(image))["prompt"], prompt, "kept as given in the PNG")
        let info = try DiffuseBinary.run(["info", image])
        assertSuccess(info, "info")
        XCTAssertFalse(info.stdout.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 }, "no raw control character")
        XCTAssertTrue(info.stdout.contains("red \\u{1b}[31mapple\\u{7}"), info.stdout)
    }
}
