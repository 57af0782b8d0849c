// End-to-end `--lora` on generate and `info` on LoRA files, with the tiny fixture pipeline.
import Foundation
import TestSupport
import XCTest

final class LoraCommandTests: XCTestCase {
    private func lora(_ name: String) throws -> String { try SharedData.url("fixtures/lora/\(name)").path }

    /// Under --precision bf16 the model loads with its weights in bf16 (where the CPU runs bf16)
    /// and the LoRA merges into them: the image stays within bf16's bounds of diffusers' LoRA
    /// image (BFloat16QualityTests) and nearer to it than to the image without the LoRA.
    func testGenerateWithLoraInBFloat16MergesIntoBFloat16Weights() throws {
        let directory = try CLIFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let reference = try SharedData.url("fixtures/lora/reference.safetensors").path
        let latentsURL = directory.appendingPathComponent("latents.safetensors")
        try CLIFixture.writeTensor(try CLIFixture.readTensor(reference, "latents"), named: "latents", to: latentsURL)
        let tensor = directory.appendingPathComponent("apple.safetensors").path
        let result = try DiffuseBinary.run(["generate", "a red apple", "--model", try CLIFixture.modelPath(), "--steps", "4",
                                            "--guidance", "5", "--width", "64", "--height", "64", "--latents", latentsURL.path,
                                            "--lora", try lora("lora_diffusers.safetensors"), "--precision", "bf16", "--quiet",
                                            "-o", directory.appendingPathComponent("apple.png").path, "--output-tensor", tensor])
        XCTAssertEqual(result.status, 0, result.stderr)
        let image = try CLIFixture.readTensor(tensor, "images").values
        let withLoRA = try CLIFixture.readTensor(reference, "lora").values, base = try CLIFixture.readTensor(reference, "base").values
        XCTAssertLessThanOrEqual(maxAbsDifference(image, withLoRA) * 255, 16, "largest pixel difference, in 8-bit levels")
        XCTAssertLessThanOrEqual(meanAbsDifference(image, withLoRA) * 255, 2.5, "mean pixel difference, in 8-bit levels")
        XCTAssertLessThan(meanAbsDifference(image, withLoRA), meanAbsDifference(image, base) / 2, "the LoRA is merged")
    }

    /// generate --lora gives diffusers' image for the same latents, and the PNG records the LoRA.
    func testGenerateWithLoraMatchesReferenceAndIsRecorded() throws {
        let directory = try CLIFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let reference = try SharedData.url("fixtures/lora/reference.safetensors").path
        let latents = try CLIFixture.readTensor(reference, "latents")
        let latentsURL = directory.appendingPathComponent("latents.safetensors")
        try CLIFixture.writeTensor(latents, named: "latents", to: latentsURL)
        let output = directory.appendingPathComponent("apple.png").path
        let tensor = directory.appendingPathComponent("apple.safetensors").path
        let result = try DiffuseBinary.run(["generate", "a red apple", "--model", try CLIFixture.modelPath(), "--steps", "4",
                                            "--guidance", "5", "--width", "64", "--height", "64", "--latents", latentsURL.path,
                                            "--lora", try lora("lora_diffusers.safetensors") + ":0.5", "--quiet",
                                            "-o", output, "--output-tensor", tensor])
        XCTAssertEqual(result.status, 0, result.stderr)
        let image = try CLIFixture.readTensor(tensor, "images")
        let expected = try CLIFixture.readTensor(reference, "lora_half")
        XCTAssertEqual(image.shape, expected.shape)
        let maxDifference = zip(image.values, expected.values).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(maxDifference, 1e-3)
        let chunks = CLIFixture.textChunks(try CLIFixture.imageInfo(output))
        XCTAssertEqual(chunks["lora"], "lora_diffusers.safetensors:0.5")
    }

    func testBadLoraIsOneErrorLine() throws {
        let result = try DiffuseBinary.run(["generate", "x", "--model", try CLIFixture.modelPath(), "--steps", "1",
                                            "--lora", try SharedData.url("fixtures/lora/reference.safetensors").path, "--quiet",
                                            "-o", FileManager.default.temporaryDirectory.appendingPathComponent("never.png").path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.hasPrefix("error: --lora: "), result.stderr)
        XCTAssertTrue(result.stderr.contains("base"), result.stderr)   // names the offending key
    }

    func testInfoDescribesBothFormats() throws {
        let peft = try DiffuseBinary.run(["info", try lora("lora_diffusers.safetensors")])
        XCTAssertEqual(peft.status, 0, peft.stderr)
        for fact in ["diffusers/PEFT", "rank: 4", "alpha: 4", "to_q ×", "to_out.0 ×", "q_proj ×", "out_proj ×"] {
            XCTAssertTrue(peft.stdout.contains(fact), "\(fact) in \(peft.stdout)")
        }
        let kohya = try DiffuseBinary.run(["info", try lora("lora_kohya.safetensors"), "--json"])
        XCTAssertEqual(kohya.status, 0, kohya.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(kohya.stdout.utf8)) as? [String: Any]
        let details = object?["details"] as? [String: String]
        XCTAssertEqual(details?["format"], "kohya/A1111")
        XCTAssertEqual(details?["alpha"], "2")
        XCTAssertEqual(details?["rank"], "4")
        XCTAssertTrue(details?["targets_unet"]?.contains("to_out_0 ×") ?? false, "\(details ?? [:])")
    }
}

final class TrainLoraCommandTests: XCTestCase {
    /// train-lora prints its settings, writes a LoRA that info describes and generate --lora takes.
    func testTrainLoraWritesAFileThatGenerateLoads() throws {
        let directory = try CLIFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let data = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for i in 0..<2 {
            let name = String(format: "%05d.png", i)
            try FileManager.default.copyItem(at: try SharedData.url("datasets/emoji32/\(name)"), to: data.appendingPathComponent(name))
        }
        let out = directory.appendingPathComponent("icon.safetensors").path
        let train = try DiffuseBinary.run(["train-lora", "--data", data.path, "--out", out, "--model", try CLIFixture.modelPath(),
                                           "--caption", "a sks icon", "--steps", "2", "--batch-size", "2", "--rank", "2",
                                           "--targets", "unet+text", "--sample-every", "0"])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(train.stderr.contains("train-lora: --steps 2 --batch-size 2 --lr 0.001"), train.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("icon-training/lora.csv").path))
        let info = try DiffuseBinary.run(["info", out])
        XCTAssertTrue(info.stdout.contains("rank: 2") && info.stdout.contains("q_proj ×5"), info.stdout)
        let image = directory.appendingPathComponent("icon.png").path
        let generate = try DiffuseBinary.run(["generate", "a sks icon", "--model", try CLIFixture.modelPath(), "--steps", "2",
                                              "--lora", out, "--quiet", "-o", image])
        XCTAssertEqual(generate.status, 0, generate.stderr)

        let bad = try DiffuseBinary.run(["train-lora", "--data", data.path, "--out", out, "--model", try CLIFixture.modelPath(), "--rank", "0"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--rank must be at least 1"), bad.stderr)
    }
}
