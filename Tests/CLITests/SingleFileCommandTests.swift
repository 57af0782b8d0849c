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
        for (name, tolerance) in [("sd1", Float(5e-3)), ("sd2", Float(2e-4))] {
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
}
