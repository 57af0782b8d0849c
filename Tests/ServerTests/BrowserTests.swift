// The page in a real browser: headless Chromium driven over WebDriver by scripts/browser-test.py
// loads it, generates (live preview, final image), moves the noise slider and takes screenshots.
import Foundation
import TestSupport
import XCTest

final class BrowserTests: ServerTestCase {
    func testPageInHeadlessChromium() throws {
        let script = SharedData.repositoryRoot.appendingPathComponent("scripts/browser-test.py")
        let out = try ProcessInfo.processInfo.environment["DIFFUSE_SCREENSHOTS"].map { URL(fileURLWithPath: $0) }
            ?? Self.temporaryDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "--url", server.baseURL, "--out", out.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        print(output)
        XCTAssertEqual(process.terminationStatus, 0, "the browser test failed (Chromium and chromedriver come from scripts/setup.sh):\n\(output)")
        for name in ["generate.png", "noise.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "no screenshot \(name)")
        }
    }
}
