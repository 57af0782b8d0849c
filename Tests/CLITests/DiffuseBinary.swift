// Finds and runs the built `diffuse` executable, capturing exit status, stdout and stderr.
import Foundation

struct ProcessResult {
    var status: Int32
    var terminatedBySignal: Bool
    var stdout: String
    var stderr: String
}

struct MissingBinary: Error, CustomStringConvertible {
    var searched: [String]
    var description: String { "the diffuse executable was not found; looked in: \(searched.joined(separator: ", ")) (build it with swift build -c release)" }
}

enum DiffuseBinary {
    /// The products directory holds both the test bundle and `diffuse`; DIFFUSE_BINARY overrides.
    static func url() throws -> URL {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["DIFFUSE_BINARY"] {
            candidates.append(URL(fileURLWithPath: override))
        }
        for base in [Bundle.main.executableURL, Bundle.main.bundleURL] + Bundle.allBundles.map(\.bundleURL) {
            guard let base = base else { continue }
            var directory = base.deletingLastPathComponent()
            for _ in 0..<3 {
                candidates.append(directory.appendingPathComponent("diffuse"))
                directory = directory.deletingLastPathComponent()
            }
        }
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        throw MissingBinary(searched: candidates.map(\.path))
    }

    /// Runs the binary (or `executable`) with `environment` added to this process's, in `directory`.
    static func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil,
                    executable: URL? = nil) throws -> ProcessResult {
        let process = Process()
        process.executableURL = try executable ?? url()
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus,
                             terminatedBySignal: process.terminationReason == .uncaughtSignal,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}
