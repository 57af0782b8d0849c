// End-to-end tests of `diffuse noise`, `diffuse denoise` and `diffuse img2img` on the tiny fixture pipeline.
import Foundation
import TestSupport
import XCTest

final class NoiseDenoiseCommandTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try CLIFixture.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testNoiseLadderWritesOneImagePerStepAndALadder() throws {
        let output = path("ladder.png")
        let result = try DiffuseBinary.run(["noise", try CLIFixture.rgbImage(), "--t", "0,500,999", "--size", "64",
                                            "--model", try CLIFixture.modelPath(), "-o", output, "--quiet"])
        assertSuccess(result, "noise ladder")
        for name in ["ladder-1.png", "ladder-2.png", "ladder-3.png"] {
            let info = try CLIFixture.imageInfo(path(name))
            XCTAssertEqual(info["width"] as? Int, 64, name)
            XCTAssertEqual(info["height"] as? Int, 64, name)
        }
        // The ladder: rows for latent and pixel space, each a name tile and three labelled
        // tiles enlarged 2× (64 → 128 px) under an 11 px label band, 2 px padding.
        let ladder = try CLIFixture.imageInfo(output)
        XCTAssertEqual(ladder["width"] as? Int, 4 * 128 + 5 * 2)
        XCTAssertEqual(ladder["height"] as? Int, 2 * (128 + 11) + 3 * 2)
        let chunks = CLIFixture.textChunks(ladder)
        XCTAssertEqual(chunks["t"], "0,500,999")
        XCTAssertEqual(chunks["sqrt_alpha_bar"]?.split(separator: ",").first, "1.0000")
    }

    func testPixelSpaceAtZeroKeepsThePixels() throws {
        let input = try CLIFixture.rgbImage()
        let output = path("same.png")
        let result = try DiffuseBinary.run(["noise", input, "--t", "0", "--space", "pixel",
                                            "--model", try CLIFixture.modelPath(), "-o", output, "--quiet"])
        assertSuccess(result, "noise --space pixel --t 0")
        XCTAssertEqual(try CLIFixture.imageInfo(output)["rgba8_sha256"] as? String,
                       try CLIFixture.imageInfo(input)["rgba8_sha256"] as? String)

        let noisy = path("noisy.png")
        assertSuccess(try DiffuseBinary.run(["noise", input, "--t", "999", "--space", "pixel",
                                             "--model", try CLIFixture.modelPath(), "-o", noisy, "--quiet"]), "pixel t=999")
        XCTAssertNotEqual(try CLIFixture.imageInfo(noisy)["rgba8_sha256"] as? String,
                          try CLIFixture.imageInfo(input)["rgba8_sha256"] as? String)
    }

    func testSavedLatentsDenoiseBack() throws {
        let latents = path("z.safetensors")
        let noised = try DiffuseBinary.run(["noise", try CLIFixture.rgbImage(), "--t", "400", "--size", "64",
                                            "--save-latents", latents, "--model", try CLIFixture.modelPath(),
                                            "-o", path("z.png"), "--quiet"])
        assertSuccess(noised, "noise --save-latents")
        let saved = try CLIFixture.readTensor(latents, "latents")
        XCTAssertEqual(saved.shape, [1, 4, 32, 32])
        XCTAssertEqual(try CLIFixture.metadata(latents)["timestep"], "400")

        // No --t: the timestep comes from the file's metadata.
        let output = path("back.png")
        let result = try DiffuseBinary.run(["denoise", latents, "--steps", "3", "--model", try CLIFixture.modelPath(),
                                            "-o", output, "--quiet"])
        assertSuccess(result, "denoise from latents")
        let info = try CLIFixture.imageInfo(output)
        XCTAssertEqual(info["width"] as? Int, 64)
        XCTAssertEqual(info["height"] as? Int, 64)
        XCTAssertEqual(CLIFixture.textChunks(info)["t"], "400")
    }

    func testDenoiseFromAnImage() throws {
        let output = path("denoised.png")
        let result = try DiffuseBinary.run(["denoise", try CLIFixture.rgbImage(), "--t", "300", "--steps", "2",
                                            "--prompt", "a clean picture", "--model", try CLIFixture.modelPath(),
                                            "-o", output, "--quiet"])
        assertSuccess(result, "denoise from an image")
        let info = try CLIFixture.imageInfo(output)
        XCTAssertEqual(info["width"] as? Int, 32)
        XCTAssertEqual(info["height"] as? Int, 32)
    }

    func testImageToImage() throws {
        let output = path("redrawn.png")
        let result = try DiffuseBinary.run(["img2img", try CLIFixture.rgbImage(), "a red circle", "--strength", "0.6",
                                            "--steps", "4", "--seed", "3", "--model", try CLIFixture.modelPath(),
                                            "-o", output, "--quiet"])
        assertSuccess(result, "img2img")
        let info = try CLIFixture.imageInfo(output)
        XCTAssertEqual(info["width"] as? Int, 32)
        XCTAssertEqual(info["height"] as? Int, 32)
        XCTAssertEqual(CLIFixture.textChunks(info)["strength"], "0.6")
    }

    /// img2img and inpaint take `--size` as noise and encode do: the image is resized first.
    func testImageToImageResizesWithSize() throws {
        let output = path("resized.png")
        let result = try DiffuseBinary.run(["img2img", try CLIFixture.rgbImage(), "a red circle", "--size", "64",
                                            "--steps", "2", "--model", try CLIFixture.modelPath(), "-o", output, "--quiet"])
        assertSuccess(result, "img2img --size 64")
        let info = try CLIFixture.imageInfo(output)
        XCTAssertEqual(info["width"] as? Int, 64)
        XCTAssertEqual(info["height"] as? Int, 64)
    }

    func testBadInputsFailWithOneErrorLine() throws {
        let model = try CLIFixture.modelPath()
        let unreadable = try SharedData.url("corpora/bad/testorig-trunc50.jpg").path
        let image = try CLIFixture.rgbImage()
        assertCleanFailure(try DiffuseBinary.run(["noise", unreadable, "--model", model, "-o", path("a.png")]), "noise: unreadable image")
        assertCleanFailure(try DiffuseBinary.run(["noise", path("nothing.png"), "--model", model, "-o", path("a.png")]), "noise: missing image")
        assertCleanFailure(try DiffuseBinary.run(["noise", image, "--t", "1000", "--model", model, "-o", path("a.png")]), "noise: t out of range")
        assertCleanFailure(try DiffuseBinary.run(["noise", image, "--space", "pixel", "--save-latents", path("z.safetensors"),
                                                  "--model", model, "-o", path("a.png")]), "noise: pixel latents")
        assertCleanFailure(try DiffuseBinary.run(["denoise", unreadable, "--t", "10", "--model", model, "-o", path("b.png")]), "denoise: unreadable image")
        assertCleanFailure(try DiffuseBinary.run(["denoise", image, "--t", "10", "--steps", "0", "--model", model, "-o", path("b.png")]), "denoise --steps 0")
        assertCleanFailure(try DiffuseBinary.run(["denoise", image, "--model", model, "-o", path("b.png")]), "denoise: no --t for an image")
        assertCleanFailure(try DiffuseBinary.run(["denoise", image, "--t", "10", "--size", "0", "--model", model, "-o", path("b.png")]), "denoise --size 0")
        assertCleanFailure(try DiffuseBinary.run(["img2img", unreadable, "x", "--model", model, "-o", path("c.png")]), "img2img: unreadable image")
        assertCleanFailure(try DiffuseBinary.run(["img2img", image, "x", "--steps", "0", "--model", model, "-o", path("c.png")]), "img2img --steps 0")
        assertCleanFailure(try DiffuseBinary.run(["img2img", image, "x", "--scheduler", "bogus", "--model", model, "-o", path("c.png")]), "img2img: unknown scheduler")
        assertCleanFailure(try DiffuseBinary.run(["img2img", image, "x", "--model", path("missing-model"), "-o", path("c.png")]), "img2img: missing model")
        let evaluate = try DiffuseBinary.run(["evaluate", "--data", directory.path, "--scheduler", "bogus", "--model", model])
        assertCleanFailure(evaluate, "evaluate: unknown scheduler")
        XCTAssertTrue(evaluate.stderr.contains("euler-karras"), "the sampler names are listed: \(evaluate.stderr)")
        for name in ["a.png", "b.png", "c.png"] { XCTAssertFalse(FileManager.default.fileExists(atPath: path(name)), name) }

        // train --oversample: a list that cannot be read, or that names nothing.
        let train = ["train", "--data", try SharedData.url("corpora/pngsuite").path, "--out", path("trained"), "--steps", "1",
                     "--batch-size", "1", "--lr", "1e-3", "--vae", model]
        let missing = try DiffuseBinary.run(train + ["--oversample", path("no-such-list.tsv")])
        assertCleanFailure(missing, "train: missing --oversample file")
        XCTAssertTrue(missing.stderr.contains("no-such-list.tsv"), missing.stderr)
        try "file\tcaption\n".write(toFile: path("empty.tsv"), atomically: true, encoding: .utf8)
        let empty = try DiffuseBinary.run(train + ["--oversample", path("empty.tsv")])
        assertCleanFailure(empty, "train: empty --oversample file")
        XCTAssertTrue(empty.stderr.contains("names no images"), empty.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("trained")))
    }

    func testEncodeShowsChannelsAndDecodeRoundTrips() throws {
        let latents = path("z.safetensors"), grid = path("channels.png"), decoded = path("decoded.png")
        let encoded = try DiffuseBinary.run(["encode", try CLIFixture.rgbImage(), "--size", "64", "--latents-png", grid,
                                             "--save-latents", latents, "--model", try CLIFixture.modelPath()])
        assertSuccess(encoded, "encode")
        XCTAssertEqual(encoded.stdout.split(separator: "\n").filter { $0.hasPrefix("channel ") }.count, 4, encoded.stdout)
        // The input and four channels (32 px latents enlarged 3× to 96 px) in one row.
        let info = try CLIFixture.imageInfo(grid)
        XCTAssertGreaterThanOrEqual(info["width"] as? Int ?? 0, 5 * 96)
        XCTAssertEqual(try CLIFixture.readTensor(latents, "latents").shape, [1, 4, 32, 32])
        assertSuccess(try DiffuseBinary.run(["decode", latents, "--model", try CLIFixture.modelPath(), "-o", decoded]), "decode")
        XCTAssertEqual(try CLIFixture.imageInfo(decoded)["width"] as? Int, 64)
        assertCleanFailure(try DiffuseBinary.run(["encode", try CLIFixture.rgbImage(), "--model", try CLIFixture.modelPath()]),
                           "encode without an output")
    }
}
