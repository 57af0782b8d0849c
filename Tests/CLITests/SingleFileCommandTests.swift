// End-to-end: --model FILE.safetensors, `diffuse convert`, `diffuse info FILE.safetensors`, pickle refusal.
import Foundation
import TensorCore
import TestSupport
import XCTest

final class SingleFileCommandTests: XCTestCase {
    private var directory: URL!
    override func setUpWithError() throws { directory = try CLIFixture.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    private func fixture(_ name: String) throws -> String { try SharedData.url("fixtures/single-file/\(name)").path }

    /// The reference's initial latents as a --latents file.
    private func latents(_ name: String) throws -> String {
        let tensor = try CLIFixture.fixtureTensor("fixtures/single-file/reference.safetensors", "latents_\(name)")
        let url = directory.appendingPathComponent("latents-\(name).safetensors")
        try CLIFixture.writeTensor(tensor, named: "latents", to: url)
        return url.path
    }

    func testGenerateFromSingleFilesMatchesDiffusers() throws {
        // sd1 is chaotic: float32 rounding moves its image by 2.6e-3 to 8.6e-3, depending on the CPU
        // (SingleFileGenerationTests).
        for (name, tolerance) in [("sd1", Float(1.5e-2)), ("sd2", Float(2e-4))] {
            let tensor = path("\(name).safetensors")
            let result = try DiffuseBinary.run(["generate", "a red apple", "--model", try fixture("\(name).safetensors"),
                                                "--config", try fixture(name), "--steps", "4", "--guidance", "5",
                                                "--latents", try latents(name), "-o", path("\(name).png"), "--output-tensor", tensor, "--quiet"])
            assertSuccess(result, "generate --model \(name).safetensors")
            let images = try CLIFixture.readTensor(tensor, "images")
            let expected = try CLIFixture.fixtureTensor("fixtures/single-file/reference.safetensors", "images_\(name)")
            XCTAssertEqual(images.shape, expected.shape)
            assertClose(images.values, expected.values, absolute: tolerance, "\(name) image")
        }
    }

    func testInfoNamesTheFileAndCountsParameters() throws {
        let sd1 = try DiffuseBinary.run(["info", try fixture("sd1.safetensors")])
        assertSuccess(sd1, "info sd1")
        for text in ["Stable Diffusion 1.x checkpoint", "980, F16", "unet:         2446788 parameters", "vae:          1399879 parameters",
                     "text_encoder: 1609216 parameters", "unet_in_channels: 4"] {
            XCTAssertTrue(sd1.stdout.contains(text), "'\(text)' not in:\n\(sd1.stdout)")
        }
        let sd2 = try DiffuseBinary.run(["info", try fixture("sd2.safetensors"), "--json"])
        assertSuccess(sd2, "info sd2 --json")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(sd2.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["kind"] as? String, "Stable Diffusion 2.x checkpoint (LDM layout)")
        XCTAssertEqual(object["tensors"] as? Int, 970)
        XCTAssertEqual((object["components"] as? [String: Int])?["unet"], 2_469_316)
        let vae = try DiffuseBinary.run(["info", try SharedData.url("fixtures/diffusers-tiny/vae/diffusion_pytorch_model.safetensors").path])
        assertSuccess(vae, "info vae")
        XCTAssertTrue(vae.stdout.contains("VAE alone"), vae.stdout)
    }

    func testConvertRoundTripIsByteIdentical() throws {
        let original = try fixture("sd1.safetensors")
        assertSuccess(try DiffuseBinary.run(["convert", original, path("sd1"), "--config", try fixture("sd1")]), "convert file → folder")
        let info = try DiffuseBinary.run(["info", path("sd1")])
        assertSuccess(info, "info on the converted folder")
        XCTAssertTrue(info.stdout.contains("DDIMScheduler"), info.stdout)
        assertSuccess(try DiffuseBinary.run(["convert", path("sd1"), path("back.safetensors")]), "convert folder → file")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("back.safetensors"))), try Data(contentsOf: URL(fileURLWithPath: original)))
        // Without --config: sizes inferred, SD's PNDM scheduler, the tokenizer shipped with Diffuse.
        assertSuccess(try DiffuseBinary.run(["convert", try fixture("sd2.safetensors"), path("sd2"), "--dtype", "fp32"]), "convert sd2")
        let sd2 = try DiffuseBinary.run(["info", path("sd2")])
        XCTAssertTrue(sd2.stdout.contains("PNDMScheduler") && sd2.stdout.contains("prediction_type: v_prediction")
                      && sd2.stdout.contains("pad_token: !") && sd2.stdout.contains("F32"), sd2.stdout)
    }

    func testPickleCheckpointsAreRefused() throws {
        let ckpt = path("model.ckpt")
        try Data([0x80, 0x02, 0x7D, 0x71]).write(to: URL(fileURLWithPath: ckpt))
        for arguments in [["generate", "x", "--model", ckpt], ["convert", ckpt, path("out")], ["info", ckpt]] {
            let result = try DiffuseBinary.run(arguments)
            assertCleanFailure(result, arguments.joined(separator: " "))
            for text in ["model.ckpt", "pickle", "runs whatever code", "Convert it to .safetensors"] {
                XCTAssertTrue(result.stderr.contains(text), "'\(text)' not in: \(result.stderr)")
            }
        }
    }

    func testConfigWithAFolderModelIsAnError() throws {
        let result = try DiffuseBinary.run(["generate", "x", "--model", try CLIFixture.modelPath(), "--config", try fixture("sd1")])
        assertCleanFailure(result, "--config with a folder model")
    }

    /// Without --config: sizes inferred, SD's sampler or `--scheduler`'s, the shipped tokenizer.
    func testGenerateWithoutConfig() throws {
        let output = path("plain.png")
        let result = try DiffuseBinary.run(["generate", "a red apple", "--model", try fixture("sd2.safetensors"), "--steps", "2",
                                            "--width", "64", "--height", "64", "--scheduler", "euler-a", "-o", output, "--quiet"])
        assertSuccess(result, "generate without --config")
        let chunks = CLIFixture.textChunks(try CLIFixture.imageInfo(output))
        XCTAssertEqual(chunks["model"], "sd2.safetensors")
        XCTAssertEqual(chunks["scheduler"], "euler-a")
    }

    /// A copy of a fixture file with one tensor left out or given another shape.
    private func tampered(_ name: String, removing removed: String? = nil, reshaping: (String, [Int])? = nil) throws -> String {
        let source = try SafetensorsFile(contentsOf: URL(fileURLWithPath: try fixture("\(name).safetensors")))
        var items: [SafetensorsStreamWriter.Item] = []
        for key in source.names where key != removed {
            if let (target, shape) = reshaping, target == key {
                items.append(.init(name: key, dtype: .f32, shape: shape) { [UInt8](repeating: 0, count: shape.reduce(4, *)) })
            } else {
                items.append(.init(name: key, dtype: try source.dtype(key), shape: try source.shape(key)) { try source.bytes(key) })
            }
        }
        let url = directory.appendingPathComponent("tampered-\(name).safetensors")
        try SafetensorsStreamWriter.write(items, to: url)
        return url.path
    }

    func testMissingKeyIsOneLineNamingTheLDMKey() throws {
        let key = "model.diffusion_model.output_blocks.5.2.conv.weight"
        let result = try DiffuseBinary.run(["generate", "x", "--model", try tampered("sd1", removing: key), "--config", try fixture("sd1")])
        assertCleanFailure(result, "missing key")
        XCTAssertTrue(result.stderr.contains(key) && result.stderr.contains("missing"), result.stderr)
    }

    /// A 9-channel U-Net is an inpainting model: `inpaint` takes it (the mask and the masked image
    /// go to the U-Net), the other commands refuse it with one line that points to `inpaint`.
    func testInpaintingModelIsTakenByInpaintAndRefusedByGenerate() throws {
        let file = try tampered("sd1", reshaping: ("model.diffusion_model.input_blocks.0.0.weight", [32, 9, 3, 3]))
        let info = try DiffuseBinary.run(["info", file])
        assertSuccess(info, "info inpainting")
        XCTAssertTrue(info.stdout.contains("unet_in_channels: 9 (inpainting)"), info.stdout)
        for command in [["generate", "x"], ["img2img", try SharedData.url("photos/chelsea-64.png").path, "x"]] {
            let result = try DiffuseBinary.run(command + ["--model", file])
            assertCleanFailure(result, "\(command[0]) with an inpainting model")
            XCTAssertTrue(result.stderr.contains("inpainting model") && result.stderr.contains("diffuse inpaint"), result.stderr)
        }

        let photo = try SharedData.url("photos/chelsea-64.png").path   // 64×64, also its own (gray-level) mask
        let output = path("inpainted.png")
        let result = try DiffuseBinary.run(["inpaint", photo, photo, "a red apple", "--model", file, "--steps", "2", "-o", output, "--quiet"])
        assertSuccess(result, "inpaint with an inpainting model")
        XCTAssertEqual(try CLIFixture.imageInfo(output)["width"] as? Int, 64)
    }
}
