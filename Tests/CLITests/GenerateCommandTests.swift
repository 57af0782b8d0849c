// End-to-end tests of `diffuse generate` on the tiny fixture pipeline.
import Foundation
import TestSupport
import XCTest

final class GenerateCommandTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try CLIFixture.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testWritesAPNGWithItsParameters() throws {
        let output = path("one.png")
        let result = try DiffuseBinary.run(["generate", "a red circle", "--steps", "2", "--seed", "42",
                                            "--model", try CLIFixture.modelPath(), "-o", output, "--quiet"])
        assertSuccess(result, "generate")
        let info = try CLIFixture.imageInfo(output)
        XCTAssertEqual(info["format"] as? String, "PNG")
        XCTAssertEqual(info["width"] as? Int, 64)
        XCTAssertEqual(info["height"] as? Int, 64)
        let chunks = CLIFixture.textChunks(info)
        XCTAssertEqual(chunks["prompt"], "a red circle")
        XCTAssertEqual(chunks["seed"], "42")
        XCTAssertEqual(chunks["steps"], "2")
    }

    func testCountWritesNumberedFilesAndAGrid() throws {
        let output = path("batch.png")
        let tensor = path("batch.safetensors")
        let result = try DiffuseBinary.run(["generate", "two of them", "--steps", "2", "--count", "2", "--model",
                                            try CLIFixture.modelPath(), "-o", output, "--output-tensor", tensor, "--quiet"])
        assertSuccess(result, "generate --count 2")
        for name in ["batch-1.png", "batch-2.png"] {
            let info = try CLIFixture.imageInfo(path(name))
            XCTAssertEqual(info["width"] as? Int, 64, name)
            XCTAssertEqual(info["height"] as? Int, 64, name)
        }
        let grid = try CLIFixture.imageInfo(output)
        XCTAssertEqual(grid["width"] as? Int, 2 * 64 + 3 * 2)  // two columns, 2-pixel padding
        XCTAssertEqual(grid["height"] as? Int, 64 + 2 * 2)
        XCTAssertNotEqual(try CLIFixture.imageInfo(path("batch-1.png"))["rgba8_sha256"] as? String,
                          try CLIFixture.imageInfo(path("batch-2.png"))["rgba8_sha256"] as? String,
                          "two draws of one generator must differ")
        let images = try CLIFixture.readTensor(tensor, "images")
        XCTAssertEqual(images.shape, [2, 64, 64, 3])
        XCTAssertTrue(images.values.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    /// `--seed 0` alone reproduces diffusers' run with torch.Generator("cpu").manual_seed(0).
    func testSeedZeroMatchesDiffusers() throws {
        let tensor = path("seed0.safetensors")
        let result = try DiffuseBinary.run(["generate", "a red circle on a blue background", "--seed", "0", "--steps", "5",
                                            "--guidance", "7.5", "--model", try CLIFixture.modelPath(),
                                            "-o", path("seed0.png"), "--output-tensor", tensor, "--quiet"])
        assertSuccess(result, "generate --seed 0")
        let images = try CLIFixture.readTensor(tensor, "images")
        let expected = try CLIFixture.fixtureTensor("fixtures/torch-randn/pipeline_seed0.safetensors", "image")
        XCTAssertEqual(images.shape, expected.shape)
        XCTAssertLessThanOrEqual(maxAbsDifference(images.values, expected.values), 1e-3)
    }

    /// `--latents` with the fixture's initial latents reproduces diffusers' txt2img image.
    func testLatentsFileIsAccepted() throws {
        let latents = try CLIFixture.fixtureTensor("fixtures/diffusers-tiny/reference/pipeline_txt2img.safetensors", "inputs/latents")
        let latentsFile = directory.appendingPathComponent("start.safetensors")
        try CLIFixture.writeTensor(latents, named: "latents", to: latentsFile)
        let tensor = path("fromlatents.safetensors")
        let result = try DiffuseBinary.run(["generate", "a red circle on a blue background", "--latents", latentsFile.path,
                                            "--steps", "5", "--model", try CLIFixture.modelPath(), "-o", path("fromlatents.png"),
                                            "--output-tensor", tensor, "--quiet"])
        assertSuccess(result, "generate --latents")
        let images = try CLIFixture.readTensor(tensor, "images")
        let expected = try CLIFixture.fixtureTensor("fixtures/diffusers-tiny/reference/pipeline_txt2img.safetensors", "neg_empty/image")
        XCTAssertEqual(images.shape, expected.shape)
        XCTAssertLessThanOrEqual(maxAbsDifference(images.values, expected.values), 1e-3)
    }

    func testLongPromptWorksWithAWarning() throws {
        let prompt = Array(repeating: "a very long prompt about a red circle", count: 20).joined(separator: ", ")
        let result = try DiffuseBinary.run(["generate", prompt, "--steps", "2", "--model", try CLIFixture.modelPath(),
                                            "-o", path("long.png")])
        assertSuccess(result, "long prompt")
        XCTAssertTrue(result.stderr.contains("warning:") && result.stderr.contains("truncated"), result.stderr)
        XCTAssertEqual(CLIFixture.textChunks(try CLIFixture.imageInfo(path("long.png")))["prompt"], prompt)
    }

    func testMixedScriptsAndEmojiPromptWorks() throws {
        let prompt = "一只猫 и кошка, a café cat 🐱🚀 — ½ «quoted»"
        let result = try DiffuseBinary.run(["generate", prompt, "--steps", "2", "--model", try CLIFixture.modelPath(),
                                            "-o", path("mixed.png"), "--quiet"])
        assertSuccess(result, "mixed-script prompt")
        XCTAssertEqual(CLIFixture.textChunks(try CLIFixture.imageInfo(path("mixed.png")))["prompt"], prompt)
    }

    func testBadInputsFailWithOneErrorLine() throws {
        let model = try CLIFixture.modelPath()
        let base = ["generate", "x", "--steps", "2", "-o", path("bad.png")]
        assertCleanFailure(try DiffuseBinary.run(base + ["--model", model, "--scheduler", "no-such-sampler"]), "unknown scheduler")
        assertCleanFailure(try DiffuseBinary.run(base + ["--model", path("no-model-here")]), "missing model folder")
        assertCleanFailure(try DiffuseBinary.run(base + ["--model", model, "--width", "66"]), "width not a multiple")
        assertCleanFailure(try DiffuseBinary.run(["generate", "x", "--steps", "0", "--model", model, "-o", path("bad.png")]), "--steps 0")
        assertCleanFailure(try DiffuseBinary.run(base + ["--model", model, "--latents", path("missing.safetensors")]), "missing latents")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("bad.png")))
    }

    func testTrajectoryGridHasOneTilePerStep() throws {
        let directory = try CLIFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let trajectory = directory.appendingPathComponent("trajectory.png").path
        let result = try DiffuseBinary.run(["generate", "a red circle", "--model", try CLIFixture.modelPath(), "--steps", "4",
                                            "--scheduler", "ddim", "--trajectory", trajectory,
                                            "-o", directory.appendingPathComponent("out.png").path, "--quiet"])
        assertSuccess(result, "generate --trajectory")
        // Four 64 px images enlarged 2× to 128 px, each under an 11 px label band, in one row.
        let info = try CLIFixture.imageInfo(trajectory)
        XCTAssertEqual(info["width"] as? Int, 4 * 128 + 5 * 2)
        XCTAssertEqual(info["height"] as? Int, 128 + 11 + 2 * 2)
    }

    func testAttentionMapsHaveOneTilePerWord() throws {
        let directory = try CLIFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let maps = directory.appendingPathComponent("maps.png").path
        let result = try DiffuseBinary.run(["generate", "a red circle on a blue background", "--model", try CLIFixture.modelPath(),
                                            "--steps", "2", "--attention-maps", maps,
                                            "-o", directory.appendingPathComponent("out.png").path, "--quiet"])
        assertSuccess(result, "generate --attention-maps")
        // The image and seven words, 128 px tiles, eight columns.
        XCTAssertEqual(try CLIFixture.imageInfo(maps)["width"] as? Int, 8 * 128 + 9 * 2)
    }

    func testInpaintWritesAnImageOfTheInputSize() throws {
        let directory = try CLIFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("inpainted.png").path
        let image = try CLIFixture.rgbImage()   // 32×32: also serves as its own (gray-level) mask
        let result = try DiffuseBinary.run(["inpaint", image, image, "a red circle", "--model", try CLIFixture.modelPath(),
                                            "--steps", "2", "-o", output, "--quiet"])
        assertSuccess(result, "inpaint")
        XCTAssertEqual(try CLIFixture.imageInfo(output)["width"] as? Int, 32)
        assertCleanFailure(try DiffuseBinary.run(["inpaint", image, "/nonexistent/mask.png", "x", "--model", try CLIFixture.modelPath()]),
                           "inpaint with a missing mask")
    }

    /// gallery takes the same sampling options as generate and records them in its grid.
    func testGalleryUsesTheSharedSamplingOptions() throws {
        let prompts = path("prompts.txt")
        try "a red circle\n\na blue square\n".write(toFile: prompts, atomically: true, encoding: .utf8)
        let output = path("gallery.png")
        let result = try DiffuseBinary.run(["gallery", prompts, "--steps", "2", "--seed", "7", "--scheduler", "euler-karras",
                                            "--negative-prompt", "blurry", "--columns", "2",
                                            "--model", try CLIFixture.modelPath(), "-o", output, "--quiet"])
        assertSuccess(result, "gallery")
        let info = try CLIFixture.imageInfo(output)
        XCTAssertEqual(info["width"] as? Int, 2 * 128 + 3 * 2, "two 128-pixel labelled tiles side by side, blank lines skipped")
        let chunks = CLIFixture.textChunks(info)
        XCTAssertEqual(chunks["prompts"], "1. a red circle\n2. a blue square")
        XCTAssertEqual(chunks["scheduler"], "euler-karras")
        XCTAssertEqual(chunks["negative_prompt"], "blurry")
        XCTAssertEqual(chunks["seed"], "7")
        assertCleanFailure(try DiffuseBinary.run(["gallery", prompts, "--scheduler", "bogus", "--model", try CLIFixture.modelPath(),
                                                  "-o", output]), "gallery: unknown scheduler")
        assertCleanFailure(try DiffuseBinary.run(["gallery", prompts, "--guidance", "-1", "--model", try CLIFixture.modelPath(),
                                                  "-o", output]), "gallery: negative guidance")
    }
}
