// Shared pieces of the server tests: the running server, JSON posts and PNG decoding.
import Foundation
import Imaging
import XCTest

class ServerTestCase: XCTestCase {
    var server: ServerProcess!
    var client: HTTPClient { server.client }

    override func setUpWithError() throws {
        server = try ServerProcess.shared.get()
    }

    /// POSTs JSON and checks the status, returning the body as a JSON object.
    @discardableResult
    func post(_ path: String, _ body: [String: Any], status: Int = 200, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let response = try client.post(path, json: body)
        XCTAssertEqual(response.status, status, "\(path): \(response.text.prefix(400))", file: file, line: line)
        return try response.json()
    }

    func getJSON(_ path: String) throws -> [String: Any] {
        let response = try client.get(path)
        XCTAssertEqual(response.status, 200, "\(path): \(response.text.prefix(400))")
        return try response.json()
    }

    /// The error a 4xx answer names: (field, message).
    func errorField(_ json: [String: Any]) -> (String?, String) {
        let error = json["error"] as? [String: Any]
        return (error?["field"] as? String, error?["message"] as? String ?? "")
    }

    func decodePNG(base64: String) throws -> DecodedImage {
        guard let data = Data(base64Encoded: base64) else { throw HTTPClientError(message: "not base64") }
        return try ImageDecoder().decode([UInt8](data), name: "response")
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-serve-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs the built binary with arguments; fails the test with its stderr on a non-zero exit.
    func runCLI(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = try ServerProcess.binary()
        process.arguments = arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw HTTPClientError(message: "diffuse \(arguments.joined(separator: " ")) failed: \(String(decoding: stderr, as: UTF8.self))")
        }
    }
}
