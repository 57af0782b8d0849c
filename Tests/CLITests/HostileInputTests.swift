// Hostile and careless inputs of issue #24, one test per class: each is one clear `error:` line
// (or a one-line warning and a correct result), never a crash, a silent wrong result or a raw
// Foundation error.
import Foundation
import TestSupport
import XCTest

final class HostileInputTests: XCTestCase {
    var work: URL!

    override func setUpWithError() throws { work = try CLIFixture.temporaryDirectory() }

    func path(_ name: String) -> String { work.appendingPathComponent(name).path }

    /// Latents of `shape` filled with `value`, saved as tensor `latents` (with `timestep` metadata).
    func latents(_ name: String, _ shape: [Int], value: Float = 0.1, timestep: Int? = nil) throws -> String {
        var writer = SafetensorsFileWriter()
        try writer.add("latents", shape: shape, value: value)
        try writer.write(to: URL(fileURLWithPath: path(name)), metadata: timestep.map { ["timestep": "\($0)"] } ?? [:])
        return path(name)
    }

    /// A writable copy of the tiny fixture pipeline, with `edit` applied to it.
    func modelCopy(_ name: String, _ edit: (URL) throws -> Void = { _ in }) throws -> String {
        let copy = work.appendingPathComponent(name)
        try FileManager.default.copyItem(at: try SharedData.url("fixtures/diffusers-tiny"), to: copy)
        try edit(copy)
        return copy.path
    }

    /// Sets `key` of a JSON object file to `value`.
    func setJSON(_ file: URL, _ key: String, _ value: Any) throws {
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as! [String: Any]
        object[key] = value
        try FileManager.default.removeItem(at: file)
        try JSONSerialization.data(withJSONObject: object).write(to: file)
    }

    /// A folder of `count` captioned 32×32 images; `captions` overrides the captions.tsv text.
    func dataset(_ name: String, count: Int = 4, captions: String? = nil) throws -> String {
        let folder = work.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var tsv = "file\tcaption\n"
        for i in 0..<count {
            try FileManager.default.copyItem(atPath: try CLIFixture.rgbImage(), toPath: folder.appendingPathComponent("\(i).png").path)
            tsv += "\(i).png\timage \(i)\n"
        }
        try Data((captions ?? tsv).utf8).write(to: folder.appendingPathComponent("captions.tsv"))
        return folder.path
    }

    func runDiffuse(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try DiffuseBinary.run(arguments, environment: environment)
    }

    func assertFails(_ arguments: [String], saying expected: [String], environment: [String: String] = [:],
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try runDiffuse(arguments, environment: environment)
        let what = arguments.prefix(2).joined(separator: " ")
        assertCleanFailure(result, what, file: file, line: line)
        for text in expected { XCTAssertTrue(result.stderr.contains(text), "\(what): \(result.stderr)", file: file, line: line) }
        XCTAssertFalse(result.stderr.contains("Domain"), "a raw Foundation error: \(result.stderr)", file: file, line: line)
    }

    /// Inputs that reached the engine unchecked and crashed it (SIGILL, SIGFPE, SIGSEGV).
    func testEngineReachableInputsAreRefusedWhereTheyEnter() throws {
        let model = try CLIFixture.modelPath()
        try assertFails(["decode", try latents("n0.safetensors", [0, 4, 16, 16]), "--model", model, "-o", path("a.png")],
                        saying: ["latents have shape [0, 4, 16, 16]"])
        try assertFails(["decode", try latents("hw0.safetensors", [1, 4, 0, 0]), "--model", model, "-o", path("a.png")],
                        saying: ["with N, h and w at least 1"])
        try assertFails(["denoise", try latents("b0.safetensors", [0, 4, 8, 8], timestep: 500), "--model", model, "-o", path("a.png")],
                        saying: ["[0, 4, 8, 8]"])
        let tiny = path("one.png")
        try CLIFixture.writeRGBPNG(width: 1, height: 1, to: tiny)
        try assertFails(["encode", tiny, "--save-latents", path("e.safetensors"), "--model", model], saying: ["1×1 pixels"])
        try assertFails(["denoise", tiny, "--t", "500", "--model", model, "-o", path("a.png")], saying: ["1×1 pixels"])
        let badVocab = try modelCopy("bad-vocab") { try self.setJSON($0.appendingPathComponent("tokenizer/vocab.json"), "apple</w>", 1_000_000) }
        try assertFails(["generate", "apple", "--model", badVocab, "--steps", "1", "-o", path("a.png")],
                        saying: ["token id 1000000", "vocab_size 49408"])
        let hugeSchedule = try modelCopy("huge-schedule") {
            try self.setJSON($0.appendingPathComponent("scheduler/scheduler_config.json"), "num_train_timesteps", 2_000_000_000)
        }
        try assertFails(["generate", "apple", "--model", hugeSchedule, "--steps", "1", "-o", path("a.png")],
                        saying: ["num_train_timesteps", "2...1000000"])
        let hugeSample = try modelCopy("huge-sample") { try self.setJSON($0.appendingPathComponent("unet/config.json"), "sample_size", 100_000) }
        try assertFails(["generate", "apple", "--model", hugeSample, "--steps", "1", "-o", path("a.png")], saying: ["DIFFUSE_MAX_PIXELS"])
    }

    /// A resumed run whose checkpoint names positions its data does not have.
    func testResumeStateIsCheckedAgainstTheData() throws {
        let data = try dataset("data", count: 4)
        let out = path("vae")
        assertSuccess(try runDiffuse(["train-vae", "--data", data, "--out", out, "--steps", "2", "--stop-after", "1", "--batch-size", "2",
                               "--quiet"]), "first step")
        let fewer = try dataset("fewer", count: 2)
        try assertFails(["train-vae", "--data", fewer, "--out", out, "--steps", "2", "--batch-size", "2", "--resume", "--quiet"],
                        saying: ["4 training images"])
        // The sampler's position edited out of range: an error naming it, not an out-of-range read.
        let checkpoint = URL(fileURLWithPath: out).appendingPathComponent("training/checkpoint.safetensors")
        try CLIFixture.editMetadata(checkpoint, "training_state", replacing: #""position" *: *[0-9]+"#, with: #""position":1000000"#)
        try assertFails(["train-vae", "--data", data, "--out", out, "--steps", "2", "--batch-size", "2", "--resume", "--quiet"],
                        saying: ["sampler.position", "1000000"])
    }

    /// Sizes that would allocate gigabytes are refused up front, and the limits can be moved.
    func testImageAndModelSizeLimits() throws {
        let model = try CLIFixture.modelPath()
        try assertFails(["generate", "apple", "--model", model, "--width", "100000", "--steps", "1", "-o", path("a.png")],
                        saying: ["100000×64", "4194304", "DIFFUSE_MAX_PIXELS"])
        try assertFails(["generate", "apple", "--model", model, "--steps", "1", "-o", path("a.png")],
                        saying: ["over the limit of 1024 pixels"], environment: ["DIFFUSE_MAX_PIXELS": "1024"])
        try assertFails(["generate", "apple", "--model", model, "--steps", "1", "-o", path("a.png")],
                        saying: ["DIFFUSE_MAX_PIXELS", "positive whole number"], environment: ["DIFFUSE_MAX_PIXELS": "lots"])
        let config = path("big-vae.json")
        try Data(#"{"block_out_channels": [4096, 8192], "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"], "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"]}"#.utf8)
            .write(to: URL(fileURLWithPath: config))
        try assertFails(["train-vae", "--data", try dataset("data"), "--out", path("big"), "--config", config, "--steps", "1"],
                        saying: ["DIFFUSE_MAX_MODEL_BYTES", "GB"])
        try assertFails(["generate", "apple", "--model", model, "--steps", "1", "-o", path("a.png")],
                        saying: ["DIFFUSE_MAX_MODEL_BYTES"], environment: ["DIFFUSE_MAX_MODEL_BYTES": "1000"])
        try assertFails(["train-vae", "--data", try dataset("data2"), "--out", path("r"), "--resolution", "100000", "--steps", "1"],
                        saying: ["--resolution must be at most 2048", "DIFFUSE_MAX_PIXELS"])
    }

    /// Values that used to give a black, unguided or meaningless result with exit status 0.
    func testSilentWrongResultsAreErrorsOrWarnings() throws {
        let model = try CLIFixture.modelPath()
        let nanWeights = try modelCopy("nan-weights") { folder in
            try CLIFixture.poke(Float.nan, intoTensor: "decoder.conv_out.weight",
                                of: folder.appendingPathComponent("vae/diffusion_pytorch_model.safetensors"))
        }
        try assertFails(["generate", "apple", "--model", nanWeights, "--steps", "1", "-o", path("a.png")],
                        saying: ["decoder.conv_out.weight", "nan", "finite"])
        try assertFails(["decode", try latents("nan.safetensors", [1, 4, 8, 8], value: .nan), "--model", model, "-o", path("a.png")],
                        saying: ["non-finite"])
        let noisy = try latents("z.safetensors", [1, 4, 8, 8], timestep: 500)
        for guidance in ["nan", "inf", "-5", "1e30"] {
            try assertFails(["denoise", noisy, "--model", model, "--prompt", "apple", "--guidance", guidance, "-o", path("a.png")],
                            saying: ["--guidance must be a number from 0 to 100"])
        }
        try assertFails(["generate", "apple", "--model", model, "--guidance", "1e30", "--steps", "1", "-o", path("a.png")],
                        saying: ["--guidance must be a number from 0 to 100"])
        let emptyVocab = try modelCopy("empty-vocab") { try Data("{}".utf8).write(to: $0.appendingPathComponent("tokenizer/vocab.json")) }
        try assertFails(["generate", "apple", "--model", emptyVocab, "--steps", "1", "-o", path("a.png")],
                        saying: ["vocab.json", "vocabulary is empty"])
        let orphans = try dataset("orphans", captions: "file\tcaption\nzzz.png\tnothing\n")
        try assertFails(["evaluate", "--model", model, "--data", orphans, "--prompts", "1", "--quiet"], saying: ["captions.tsv", "zzz.png"])
        try assertFails(["evaluate", "--model", model, "--data", try dataset("data"), "--prompts", "0"],
                        saying: ["--prompts must be at least 1"])
        // --resume with nothing to resume: one warning line, then a fresh run.
        let fresh = try runDiffuse(["train-vae", "--data", try dataset("data3"), "--out", path("fresh"), "--steps", "1", "--batch-size", "2",
                             "--resume", "--quiet"])
        assertSuccess(fresh, "train-vae --resume without a checkpoint")
        XCTAssertEqual(fresh.stderr.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("warning: nothing to resume") }.count, 1,
                       fresh.stderr)
    }

    /// Errors that named no key, gave a raw Foundation error or the wrong reason.
    func testUnclearErrorsNameWhatAndWhere() throws {
        let model = try CLIFixture.modelPath()
        try FileManager.default.createDirectory(atPath: path("dir.safetensors"), withIntermediateDirectories: true)
        try assertFails(["decode", path("dir.safetensors"), "--model", model, "-o", path("a.png")], saying: ["dir.safetensors", "is a folder"])
        XCTAssertEqual(mkfifo(path("fifo.safetensors"), 0o600), 0)
        try assertFails(["decode", path("fifo.safetensors"), "--model", model, "-o", path("a.png")], saying: ["is a FIFO"])
        try assertFails(["train-vae", "--data", try dataset("data"), "--out", path("p"), "--config", "/proc/self/status", "--steps", "1"],
                        saying: ["/proc/self/status", "invalid JSON"])
        let badText = try dataset("utf8", captions: "file\tcaption\n0.png\t\u{FF}")
        try Data([0x66, 0x69, 0x6C, 0x65, 0x09, 0x63, 0x0A, 0x30, 0x2E, 0x70, 0x6E, 0x67, 0x09, 0xFF, 0xFE, 0x0A])
            .write(to: URL(fileURLWithPath: badText).appendingPathComponent("captions.tsv"))
        try assertFails(["evaluate", "--model", model, "--data", badText, "--prompts", "1"],
                        saying: ["captions.tsv:2", "not valid UTF-8"])
        let fractional = path("fractional.json")
        try Data(#"{"block_out_channels": [64.5]}"#.utf8).write(to: URL(fileURLWithPath: fractional))
        try assertFails(["train-vae", "--data", try dataset("data2"), "--out", path("f"), "--config", fractional, "--steps", "1"],
                        saying: ["block_out_channels", "whole number"])
        let badBeta = try modelCopy("bad-beta") { try self.setJSON($0.appendingPathComponent("scheduler/scheduler_config.json"), "beta_start", -5) }
        try assertFails(["generate", "apple", "--model", badBeta, "--steps", "1", "-o", path("a.png")], saying: ["beta_start", "-5"])
        try assertFails(["train-vae", "--data", try dataset("data3"), "--out", path("lr"), "--lr", "-1", "--steps", "1"],
                        saying: ["--lr must be positive, got -1"])
    }
}
