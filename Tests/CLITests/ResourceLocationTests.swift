// The data commands need (the CLIP tokenizer, the shipped model) is found wherever diffuse runs
// from: started from another folder by a bare name on PATH, and installed by scripts/install.sh.
import Foundation
import TestSupport
import XCTest

final class ResourceLocationTests: XCTestCase {
    /// `diffuse train` (which needs models/clip-tokenizer) started by name from PATH in an empty
    /// folder: argv[0] is then "diffuse", so the binary must find itself through /proc/self/exe.
    func testTrainRunsFromAnotherFolderThroughPATH() throws {
        let work = try CLIFixture.temporaryDirectory()
        let data = work.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for i in 0..<2 {
            try FileManager.default.copyItem(atPath: try CLIFixture.rgbImage(), toPath: data.appendingPathComponent("\(i).png").path)
        }
        try Data("file\tcaption\n0.png\tred\n1.png\tblue\n".utf8).write(to: data.appendingPathComponent("captions.tsv"))
        let bin = work.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: bin.appendingPathComponent("diffuse"), withDestinationURL: try DiffuseBinary.url())
        let tiny = try SharedData.url("fixtures/diffusers-tiny")
        let command = ["diffuse", "train", "--data", "data", "--vae", tiny.appendingPathComponent("vae").path, "--out", "model",
                       "--unet-config", tiny.appendingPathComponent("unet/config.json").path,
                       "--text-config", tiny.appendingPathComponent("text_encoder/config.json").path,
                       "--steps", "1", "--batch-size", "2", "--sample-every", "0", "--quiet"]
        let result = try DiffuseBinary.run(["-c", "exec " + command.joined(separator: " ")], environment: [
            "PATH": bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
        ], in: work, executable: URL(fileURLWithPath: "/bin/sh"))
        assertSuccess(result, "diffuse train from \(work.path)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("model/model_index.json").path), result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: work.appendingPathComponent("model/tokenizer/vocab.json").path))
    }

    /// scripts/install.sh PREFIX, then `PREFIX/bin/diffuse generate` with no --model from an
    /// unrelated folder: the installed models/emoji is the default model.
    func testInstalledBinaryGeneratesFromAnywhere() throws {
        let work = try CLIFixture.temporaryDirectory()
        let prefix = work.appendingPathComponent("prefix")
        let install = Process()
        install.executableURL = SharedData.repositoryRoot.appendingPathComponent("scripts/install.sh")
        install.arguments = [prefix.path]
        install.environment = ProcessInfo.processInfo.environment.merging(
            ["DIFFUSE_BIN_DIR": try DiffuseBinary.url().deletingLastPathComponent().path]) { $1 }
        try install.run()
        install.waitUntilExit()
        XCTAssertEqual(install.terminationStatus, 0, "scripts/install.sh")
        let share = prefix.appendingPathComponent("share/diffuse")
        for file in ["bin/diffuse", "share/diffuse/models/emoji/model_index.json", "share/diffuse/models/clip-tokenizer/vocab.json",
                     "share/diffuse/models/clip-tokenizer-sd2/vocab.json", "share/diffuse/Diffuse_Server.resources/Static/index.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: prefix.appendingPathComponent(file).path), "installed \(file)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: share.appendingPathComponent("models/emoji/training").path),
                       "training logs are not installed")
        let elsewhere = work.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let result = try DiffuseBinary.run(["generate", "red apple", "--steps", "2", "-o", "apple.png", "--quiet"],
                                           environment: ["DIFFUSE_MODEL": ""], in: elsewhere,
                                           executable: prefix.appendingPathComponent("bin/diffuse"))
        assertSuccess(result, "installed diffuse generate")
        let info = try CLIFixture.imageInfo(elsewhere.appendingPathComponent("apple.png").path)
        XCTAssertEqual(CLIFixture.textChunks(info)["model"], "emoji", "the installed shipped model")
    }
}
