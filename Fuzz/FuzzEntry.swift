// libFuzzer entry points: FUZZ_TARGET (set by scripts/fuzz.sh) picks which parser one binary fuzzes.
import Foundation

/// A fuzz target: `setUp` once per process (fixtures it needs), then `run` once per input.
/// A thrown error is a correct rejection; only a crash or a sanitizer report is a finding.
struct FuzzTarget {
    let name: String
    let summary: String
    var setUp: () throws -> Void = {}
    let run: ([UInt8]) throws -> Void
}

let allTargets: [FuzzTarget] = [
    imageTarget(name: "png"), imageTarget(name: "jpeg"),
    safetensorsTarget, configTarget, tokenizerFilesTarget, tokenizeTarget,
    checkpointTarget, loraTarget, singleFileTarget,
]

nonisolated(unsafe) var selected: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>,
                           _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
    if name == "--list" {
        for target in allTargets { print("\(target.name)\t\(target.summary)") }
        exit(0)
    }
    guard let target = allTargets.first(where: { $0.name == name }) else {
        let names = allTargets.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("error: FUZZ_TARGET '\(name)' is not one of: \(names)\n".utf8))
        exit(2)
    }
    do { try target.setUp() } catch {
        FileHandle.standardError.write(Data("error: fuzz target \(name) cannot start: \(error)\n".utf8))
        exit(2)
    }
    if let folder = ProcessInfo.processInfo.environment["FUZZ_WRITE_SEEDS"] {
        do { try writeGeneratedSeeds(for: name, into: URL(fileURLWithPath: folder)) } catch {
            FileHandle.standardError.write(Data("error: cannot write seeds for \(name): \(error)\n".utf8))
            exit(2)
        }
        exit(0)
    }
    selected = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let target = selected else { return 0 }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    _ = try? target.run(bytes)
    return 0
}

/// ../shared beside the repository (the fuzz script runs from the repository root).
func sharedFolder() throws -> URL {
    let url = URL(fileURLWithPath: ProcessInfo.processInfo.environment["DIFFUSE_SHARED"] ?? "../shared")
    guard FileManager.default.fileExists(atPath: url.appendingPathComponent("fixtures").path) else {
        throw FuzzSetupError(reason: "\(url.path)/fixtures not found (set DIFFUSE_SHARED)")
    }
    return url
}

struct FuzzSetupError: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// Splits an input into NUL-separated parts (several files in one input), padded with nils.
func parts(_ bytes: [UInt8], count: Int) -> [[UInt8]?] {
    var result = bytes.split(separator: 0, maxSplits: count - 1, omittingEmptySubsequences: false).map { Array($0) as [UInt8]? }
    while result.count < count { result.append(nil) }
    return result
}

/// A per-process scratch folder for loaders that only take paths.
let scratchFolder: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}()

/// libFuzzer's driver, from the fuzzer runtime that -sanitize=fuzzer links.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable target with `main` defined as `<module>_main`; it starts libFuzzer.
@_cdecl("diffuse_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments, fuzzTestOneInput)
}
