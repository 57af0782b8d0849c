// Starts the built `diffuse serve` on a free loopback port (--port 0) for the tests, with a
// fresh output folder, and stops it when the tests end.
import Foundation
import TestSupport

final class ServerProcess {
    let process = Process()
    let port: UInt16
    let outputDirectory: URL
    let baseURL: String
    var client: HTTPClient { HTTPClient(port: port) }

    /// One server shared by every test of the run (the model loads once, as in real use).
    static let shared: Result<ServerProcess, Error> = Result { try ServerProcess() }

    static func binary() throws -> URL {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["DIFFUSE_BINARY"] { candidates.append(URL(fileURLWithPath: override)) }
        for bundle in [Bundle.main.bundleURL] + Bundle.allBundles.map(\.bundleURL) {
            var directory = bundle.deletingLastPathComponent()
            for _ in 0..<3 {
                candidates.append(directory.appendingPathComponent("diffuse"))
                directory = directory.deletingLastPathComponent()
            }
        }
        candidates.append(SharedData.repositoryRoot.appendingPathComponent(".build/release/diffuse"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) && !$0.hasDirectoryPath }) else {
            throw HTTPClientError(message: "the diffuse executable was not found (build it with swift build -c release); looked in \(candidates.map(\.path))")
        }
        return found
    }

    static var modelPath: String { SharedData.repositoryRoot.appendingPathComponent("models/emoji").path }

    /// The shipped model's image side, read from its folder: the U-Net's latent `sample_size`
    /// times the VAE's down-sampling (one halving per block after the first).
    static func modelImageSize() throws -> Int {
        func config(_ component: String) throws -> [String: Any] {
            let url = URL(fileURLWithPath: modelPath).appendingPathComponent("\(component)/config.json")
            guard let json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
                throw HTTPClientError(message: "\(url.path) is not a JSON object")
            }
            return json
        }
        guard let latentSize = try config("unet")["sample_size"] as? Int,
              let blocks = (try config("vae")["block_out_channels"] as? [Int])?.count, blocks >= 1 else {
            throw HTTPClientError(message: "models/emoji has no unet sample_size or vae block_out_channels")
        }
        return latentSize << (blocks - 1)
    }

    /// `extraArguments`: more flags for `diffuse serve` (`--precision bf16`).
    init(extraArguments: [String] = []) throws {
        outputDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-serve-\(UUID().uuidString)")
        process.executableURL = try Self.binary()
        process.arguments = ["serve", "--port", "0", "--output", outputDirectory.path, "--model", Self.modelPath, "--quiet"] + extraArguments
        process.currentDirectoryURL = SharedData.repositoryRoot
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // Wait for the address line (the model loads first).
        var text = ""
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !text.contains("\n") {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let range = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
              let port = UInt16(text[range].split(separator: ":").last ?? "") else {
            process.terminate()
            throw HTTPClientError(message: "diffuse serve did not print its address; it printed: \(text)")
        }
        self.port = port
        baseURL = String(text[range])
        let pid = process.processIdentifier
        atexit_register(pid)
    }

    /// Stops a server of one test's own (the shared one stops when the test process exits).
    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: outputDirectory)
    }

    /// The server's resident memory, from /proc.
    var residentBytes: Int {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8) else { return -1 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return -1
    }
}

/// Stops the server started by this test process when the process exits.
private var serverPIDs: [Int32] = []
private func atexit_register(_ pid: Int32) {
    if serverPIDs.isEmpty { atexit { for pid in serverPIDs { kill(pid, SIGTERM) } } }
    serverPIDs.append(pid)
}
