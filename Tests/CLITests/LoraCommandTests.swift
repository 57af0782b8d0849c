// End-to-end `--lora` on generate and `info` on LoRA files, with the tiny fixture pipeline.
import Foundation
import TestSupport
import XCTest

final class LoraCommandTests: XCTestCase {
    private func lora(_ name: String) throws -> String { try SharedData.url("fixtures/lora/\(name)").path }

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
