// Runs the built `diffuse` under `mpirun` (as root: --allow-run-as-root; 2 ranks on 2 cores:
// --oversubscribe), with a time limit so that a hung job fails the test instead of the suite.
import Foundation
import TensorCore
import XCTest

struct MissingMPIRun: Error, CustomStringConvertible {
    var description: String { "mpirun was not found on PATH: install Open MPI with scripts/setup.sh (openmpi-bin)" }
}

struct MPIJob {
    let process = Process()
    let output: URL, errors: URL

    /// `mpirun`'s path; the MPI tests fail, never skip, without it.
    static func mpirun() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("mpirun")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw MissingMPIRun()
    }

    /// Starts `mpirun -np ranks diffuse ARGS`; with `perRank`, each rank runs
    /// `sh -c SCRIPT` instead, where $DIFFUSE is the binary and $OMPI_COMM_WORLD_RANK its rank.
    init(ranks: Int, _ arguments: [String], perRank script: String? = nil, in directory: URL) throws {
        let binary = try DiffuseBinary.url().path
        process.executableURL = try Self.mpirun()
        var command = ["--allow-run-as-root", "--oversubscribe", "-np", "\(ranks)"]
        if let script { command += ["-x", "DIFFUSE=\(binary)", "sh", "-c", script] } else { command += [binary] + arguments }
        process.arguments = command
        process.environment = ProcessInfo.processInfo.environment.merging(["DIFFUSE": binary]) { $1 }
        let stamp = UUID().uuidString
        output = directory.appendingPathComponent("mpirun-\(stamp).out")
        errors = directory.appendingPathComponent("mpirun-\(stamp).err")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
    }

    /// Waits up to `timeout` seconds; a job still running then is killed and reported as hung.
    func wait(timeout: TimeInterval = 120) throws -> ProcessResult {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        let hung = process.isRunning
        if hung { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let result = ProcessResult(status: process.terminationStatus, terminatedBySignal: process.terminationReason == .uncaughtSignal,
                                   stdout: (try? String(contentsOf: output, encoding: .utf8)) ?? "",
                                   stderr: (try? String(contentsOf: errors, encoding: .utf8)) ?? "")
        if hung { throw CommandRunFailure(description: "mpirun hung for \(Int(timeout)) s and was killed; stderr:\n\(result.stderr)") }
        return result
    }

    /// Runs one job to its end.
    static func run(ranks: Int, _ arguments: [String], perRank script: String? = nil, in directory: URL,
                    timeout: TimeInterval = 120) throws -> ProcessResult {
        try MPIJob(ranks: ranks, arguments, perRank: script, in: directory).wait(timeout: timeout)
    }
}

/// How far two models' weights are apart: ‖a − b‖ / ‖a‖ over every tensor of the files
/// (a per-element bound would be noise: Adam moves weights of near-zero gradient by ±lr).
func relativeDistance(_ a: URL, _ b: URL, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
    let first = try SafetensorsFile(contentsOf: a), second = try SafetensorsFile(contentsOf: b)
    XCTAssertEqual(first.names, second.names, "the same tensors", file: file, line: line)
    var difference = 0.0, norm = 0.0
    for name in first.names {
        let x = try first.floats(name), y = try second.floats(name)
        XCTAssertEqual(x.count, y.count, name, file: file, line: line)
        for (u, v) in zip(x, y) {
            difference += Double(u - v) * Double(u - v)
            norm += Double(u) * Double(u)
        }
    }
    return (difference / max(norm, 1e-30)).squareRoot()
}
