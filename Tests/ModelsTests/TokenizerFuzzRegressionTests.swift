// Tokenizer files whose ids once wrapped or went negative silently (fuzz target `tokenizer-files`).
import Foundation
import Models
import TestSupport
import XCTest

final class TokenizerFuzzRegressionTests: XCTestCase {
    /// Each kept input (the tokenizer's files, NUL-separated) is refused, naming the id's range.
    func testOutOfRangeTokenIdsAreRefused() throws {
        let names = ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]
        for (name, bytes) in try FuzzRegressions.inputs("tokenizer-files") {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-tokenizer-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            for (file, part) in zip(names, bytes.split(separator: 0, omittingEmptySubsequences: false)) {
                try Data(part).write(to: folder.appendingPathComponent(file))
            }
            XCTAssertThrowsError(try CLIPTokenizer(directory: folder), name) { error in
                XCTAssertTrue(error is CLIPTokenizerError, "\(name): \(error)")
                XCTAssertTrue("\(error)".contains("0...2147483647"), "\(name): \(error)")
            }
        }
    }

    /// The same files with in-range ids load, so the check refuses only the ids.
    func testInRangeIdsLoad() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-tokenizer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(#"{"a</w>": 0, "b</w>": 1, "ab</w>": 2147483647, "<|startoftext|>": 3, "<|endoftext|>": 4}"#.utf8)
            .write(to: folder.appendingPathComponent("vocab.json"))
        try Data("#version: 0.2\na b</w>\n".utf8).write(to: folder.appendingPathComponent("merges.txt"))
        let tokenizer = try CLIPTokenizer(directory: folder)
        XCTAssertEqual(tokenizer.encode("ab"), [3, 2147483647, 4])
    }
}
