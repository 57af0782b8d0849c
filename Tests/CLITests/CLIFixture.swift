// Helpers for end-to-end runs on the tiny fixture pipeline: temp folders, image facts via
// `diffuse info --json`, and tensor files through the project's safetensors reader/writer.
import Foundation
import TensorCore
import TestSupport
import XCTest

struct CommandRunFailure: Error, CustomStringConvertible {
    var description: String
}

/// A float32 tensor read from a safetensors file.
struct FloatTensor {
    var shape: [Int]
    var values: [Float]
}

enum CLIFixture {
    static func modelPath() throws -> String { try SharedData.url("fixtures/diffusers-tiny").path }

    /// An 8-bit RGB 32×32 PNG from the PNG suite.
    static func rgbImage() throws -> String { try SharedData.url("corpora/pngsuite/basn2c08.png").path }

    /// A fresh empty folder under the system temp directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `diffuse info PATH --json` as a dictionary (the file must decode).
    static func imageInfo(_ path: String) throws -> [String: Any] {
        let result = try DiffuseBinary.run(["info", path, "--json"])
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            throw CommandRunFailure(description: "info \(path) failed: \(result.stderr)")
        }
        return object
    }

    /// The text chunks of a PNG as key → value.
    static func textChunks(_ info: [String: Any]) -> [String: String] {
        var chunks: [String: String] = [:]
        for chunk in info["text_chunks"] as? [[String: Any]] ?? [] {
            if let key = chunk["key"] as? String, let value = chunk["value"] as? String { chunks[key] = value }
        }
        return chunks
    }

    /// Reads tensor `name` of a safetensors file (through the project's own reader).
    static func readTensor(_ path: String, _ name: String) throws -> FloatTensor {
        let file = try SafetensorsFile(contentsOf: URL(fileURLWithPath: path))
        return FloatTensor(shape: try file.shape(name), values: try file.floats(name))
    }

    /// The metadata of a safetensors file.
    static func metadata(_ path: String) throws -> [String: String] {
        try SafetensorsFile(contentsOf: URL(fileURLWithPath: path)).metadata
    }

    /// Writes one float32 tensor as a safetensors file.
    static func writeTensor(_ tensor: FloatTensor, named name: String, to url: URL) throws {
        var writer = SafetensorsWriter()
        try writer.add(name, shape: tensor.shape, floats: tensor.values)
        try writer.write(to: url)
    }

    /// Reads float32 tensor `name` from a shared fixture file.
    static func fixtureTensor(_ relativePath: String, _ name: String) throws -> FloatTensor {
        try readTensor(try SharedData.url(relativePath).path, name)
    }
}

/// Asserts a failed run: no signal, a non-zero status and exactly one `error:` line on stderr.
func assertCleanFailure(_ result: ProcessResult, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(result.terminatedBySignal, "\(what): crashed", file: file, line: line)
    XCTAssertNotEqual(result.status, 0, "\(what): exit status", file: file, line: line)
    let lines = result.stderr.split(whereSeparator: \.isNewline)
    XCTAssertEqual(lines.count, 1, "\(what): stderr should be one line: \(result.stderr)", file: file, line: line)
    XCTAssertTrue(result.stderr.hasPrefix("error: "), "\(what): \(result.stderr)", file: file, line: line)
}

/// Asserts a successful run.
func assertSuccess(_ result: ProcessResult, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(result.terminatedBySignal, "\(what): crashed", file: file, line: line)
    XCTAssertEqual(result.status, 0, "\(what): \(result.stderr)", file: file, line: line)
}
