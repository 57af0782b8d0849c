// Bad requests are 4xx JSON errors naming the field; limits hold; only the output folder is served.
import Foundation
import XCTest

final class RequestSafetyTests: ServerTestCase {
    func expectError(_ path: String, _ body: [String: Any], field: String, status: Int = 400,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let response = try client.post(path, json: body)
        XCTAssertEqual(response.status, status, "\(body): \(response.text.prefix(300))", file: file, line: line)
        XCTAssertEqual(response.headers["content-type"], "application/json", file: file, line: line)
        let (named, message) = errorField(try response.json())
        XCTAssertEqual(named, field, "error: \(message)", file: file, line: line)
        XCTAssertFalse(message.isEmpty, file: file, line: line)
    }

    func testBadFieldsAreNamed() throws {
        try expectError("/sdapi/v1/txt2img", ["prompt": "x", "steps": 0], field: "steps")
        try expectError("/sdapi/v1/txt2img", ["prompt": "x", "steps": 100_000], field: "steps")
        try expectError("/sdapi/v1/txt2img", ["prompt": "x", "steps": "many"], field: "steps")
        try expectError("/sdapi/v1/txt2img", ["prompt": "x", "steps": 2.5], field: "steps")
        try expectError("/sdapi/v1/txt2img", ["prompt": "x", "cfg_scale": -1], field: "cfg_scale")
        try expectError("/sdapi/v1/txt2img", ["prompt": "x", "sampler_name": "Warp Drive"], field: "sampler_name")
        try expectError("/sdapi/v1/txt2img", ["prompt": "x", "width": 33], field: "width")
        try expectError("/sdapi/v1/txt2img", ["prompt": "x", "width": 100_000], field: "width")
        try expectError("/sdapi/v1/txt2img", ["prompt": "x", "batch_size": 1000], field: "batch_size")
        try expectError("/sdapi/v1/txt2img", ["prompt": "x", "batch_size": 4, "n_iter": 4], field: "n_iter")
        try expectError("/sdapi/v1/txt2img", ["prompt": 12], field: "prompt")
        try expectError("/sdapi/v1/txt2img", ["prompt": "x", "seed": -5], field: "seed")
        try expectError("/sdapi/v1/img2img", ["prompt": "x"], field: "init_images")
        try expectError("/sdapi/v1/img2img", ["prompt": "x", "init_images": ["bm90IGFuIGltYWdl"]], field: "init_images[0]")
        try expectError("/sdapi/v1/img2img", ["prompt": "x", "init_images": [123]], field: "init_images[0]")
        try expectError("/v1/images/generations", ["n": 1], field: "prompt")
        try expectError("/v1/images/generations", ["prompt": "x", "n": 99], field: "n")
        try expectError("/v1/images/generations", ["prompt": "x", "size": "huge"], field: "size")
        try expectError("/v1/images/generations", ["prompt": "x", "size": "30x30"], field: "size")
        try expectError("/v1/images/generations", ["prompt": "x", "response_format": "gif"], field: "response_format")
        try expectError("/api/jobs", ["mode": "teleport", "prompt": "x"], field: "mode")
        try expectError("/api/jobs", ["mode": "noise"], field: "image")
        try expectError("/api/jobs", ["mode": "denoise", "image": "", "t": 5000], field: "image")
    }

    func testMalformedBodiesAndUnknownRoutes() throws {
        let notJSON = try client.send("POST", "/sdapi/v1/txt2img", body: Array("{prompt:".utf8), contentType: "application/json")
        XCTAssertEqual(notJSON.status, 400)
        XCTAssertNotNil((try notJSON.json())["error"])
        let array = try client.post("/sdapi/v1/txt2img", json: [1, 2])
        XCTAssertEqual(array.status, 400)
        let missing = try client.get("/sdapi/v1/nothing-here")
        XCTAssertEqual(missing.status, 404)
        XCTAssertNotNil((try missing.json())["error"])
        let unknownJob = try client.get("/api/jobs/nope")
        XCTAssertEqual(unknownJob.status, 404)
    }

    func testBodyTooLarge() throws {
        let huge = [UInt8](repeating: UInt8(ascii: "a"), count: 17 * 1024 * 1024)
        let response = try client.send("POST", "/sdapi/v1/txt2img", body: huge, contentType: "application/json")
        XCTAssertEqual(response.status, 413, response.text.prefix(200).description)
        // The server still serves afterwards.
        XCTAssertEqual(try client.get("/api/info").status, 200)
    }

    func testImageTooLargeIsRefused() throws {
        // A PNG header claiming 100000×100000 pixels: refused from the header, never allocated.
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]
        png += [0x00, 0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0, 8, 2, 0, 0, 0, 0, 0, 0, 0]
        let response = try client.post("/sdapi/v1/img2img", json: ["prompt": "x", "init_images": [Data(png).base64EncodedString()]])
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(errorField(try response.json()).0, "init_images[0]")
    }

    func testOnlyTheOutputFolderIsServed() throws {
        // Something to serve, then every escape we can think of.
        let json = try post("/v1/images/generations", ["prompt": "red apple", "response_format": "url", "steps": 2])
        let url = try XCTUnwrap((json["data"] as? [[String: Any]])?.first?["url"] as? String)
        let name = try XCTUnwrap(url.split(separator: "/").last)
        XCTAssertEqual(try client.get("/outputs/\(name)").status, 200)
        // A secret beside the output folder and the repository's own files must stay out of reach.
        let secret = server.outputDirectory.deletingLastPathComponent().appendingPathComponent("secret-\(UUID().uuidString).png")
        try Data("SECRET".utf8).write(to: secret)
        defer { try? FileManager.default.removeItem(at: secret) }
        let secretName = secret.lastPathComponent
        let escapes = [
            "/outputs/../\(secretName)", "/outputs/..%2F\(secretName)", "/outputs/%2e%2e%2f\(secretName)",
            "/outputs/%2E%2E/\(secretName)", "/outputs/..%252F\(secretName)", "/outputs/%252e%252e%252f\(secretName)",
            "/outputs/..%5c\(secretName)", "/outputs/....//\(secretName)", "/outputs/%2fetc%2fpasswd", "/outputs/..",
            "/outputs/../../../../etc/passwd", "/outputs/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/outputs/.\(name)",
            "/outputs/\(name)%00.png", "/static/../Package.swift", "/static/..%2F..%2F..%2FPackage.swift",
            "/static/%2e%2e%2fJobQueue.swift", "/outputs/\(name)/../../Package.swift",
        ]
        for path in escapes {
            let response = try client.get(path)
            XCTAssertTrue((400..<500).contains(response.status), "\(path) gave \(response.status)")
            XCTAssertFalse(response.text.contains("SECRET"), path)
            XCTAssertFalse(response.text.contains("root:"), path)
            XCTAssertFalse(response.text.contains("PackageDescription"), path)
        }
    }
}
