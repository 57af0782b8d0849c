// `--precision bf16` end to end: bf16 where the CPU has it, else one warning line and float32's
// image exactly; DIFFUSE_BF16_EMULATE=1 gives bf16's numerics on any CPU.
import Foundation
import TensorCore
import TestSupport
import XCTest

final class PrecisionOptionTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try CLIFixture.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Runs a 2-step generate at `precision`; returns its images [1, 64, 64, 3] and its warning lines.
    private func generate(_ precision: String, environment: [String: String] = [:]) throws -> ([Float], [Substring]) {
        let tensor = directory.appendingPathComponent("\(precision)-\(environment.count).safetensors").path
        let result = try DiffuseBinary.run(["generate", "a red circle", "--steps", "2", "--seed", "3", "--precision", precision,
                                            "--model", try CLIFixture.modelPath(), "-o", directory.appendingPathComponent("x.png").path,
                                            "--output-tensor", tensor], environment: environment)
        assertSuccess(result, "generate --precision \(precision)")
        let warnings = result.stderr.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("warning:") }
        return (try CLIFixture.readTensor(tensor, "images").values, warnings)
    }

    func testBFloat16RunsNativelyOrSaysItRunsFloat32() throws {
        func recordedPrecision() throws -> String? {
            CLIFixture.textChunks(try CLIFixture.imageInfo(directory.appendingPathComponent("x.png").path))["precision"]
        }
        let (float32, quiet) = try generate("fp32")
        XCTAssertEqual(quiet, [])
        XCTAssertNil(try recordedPrecision(), "float32, the default, is not recorded")
        let (bfloat16, warnings) = try generate("bf16")
        let recorded = try recordedPrecision()
        if ComputePrecision.nativeBFloat16 {
            XCTAssertEqual(warnings, [])
            XCTAssertNotEqual(bfloat16, float32, "bf16 should move the image")
            XCTAssertEqual(recorded, "bf16", "the PNG records the precision that made it")
        } else {
            XCTAssertNil(recorded, "float32 ran: nothing to record")
            XCTAssertEqual(warnings.count, 1, "one line says that bf16 runs as float32: \(warnings)")
            XCTAssertTrue(warnings.first?.contains("AVX-512 BF16") ?? false, "\(warnings)")
            XCTAssertEqual(bfloat16, float32, "the fallback is float32 itself")
        }
    }

    /// Every command that runs a model loads it with its weights in bf16 under --precision bf16
    /// (where the CPU runs bf16): each runs on them to the end and writes its image.
    func testEveryModelCommandRunsOnWeightsStoredInBFloat16() throws {
        let (model, image) = (try CLIFixture.modelPath(), try CLIFixture.rgbImage())
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let latents = path("latents.safetensors")
        let runs: [(arguments: [String], picture: String)] = [
            (["img2img", image, "a red circle", "--strength", "0.6", "--steps", "2", "-o", path("img2img.png")], path("img2img.png")),
            (["inpaint", image, image, "a red circle", "--steps", "2", "-o", path("inpaint.png")], path("inpaint.png")),
            (["denoise", image, "--t", "300", "--steps", "2", "--prompt", "a clean picture", "-o", path("denoise.png")], path("denoise.png")),
            (["noise", image, "--t", "0,500", "--size", "64", "-o", path("noise.png")], path("noise.png")),
            (["encode", image, "--save-latents", latents, "--latents-png", path("encode.png")], path("encode.png")),
            (["decode", latents, "-o", path("decode.png")], path("decode.png")),
        ]
        for run in runs {
            let result = try DiffuseBinary.run(run.arguments + ["--model", model, "--precision", "bf16", "--quiet"])
            assertSuccess(result, "\(run.arguments[0]) --precision bf16")
            XCTAssertGreaterThan((try CLIFixture.imageInfo(run.picture)["width"] as? Int) ?? 0, 0, "\(run.arguments[0]) wrote \(run.picture)")
        }
    }

    func testEmulatedBFloat16MovesTheImageSlightly() throws {
        let (float32, _) = try generate("fp32")
        let (emulated, warnings) = try generate("bf16", environment: [ComputePrecision.emulationVariable: "1"])
        XCTAssertEqual(warnings, [], "emulation is asked for: no fallback notice")
        let worst = maxAbsDifference(emulated, float32) * 255
        XCTAssertGreaterThan(worst, 0, "bf16 should move the image")
        XCTAssertLessThanOrEqual(worst, 16, "within the bound of BFloat16QualityTests, in 8-bit levels")
    }

    /// Trains a VAE for two steps on four images at `precision`; returns its weights and warning lines.
    private func trainVAE(_ precision: String, environment: [String: String] = [:]) throws -> (Data, [Substring]) {
        let data = directory.appendingPathComponent("data")
        if !FileManager.default.fileExists(atPath: data.path) {
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            var captions = "file\tcaption\n"
            for i in 0..<4 {
                try FileManager.default.copyItem(atPath: try CLIFixture.rgbImage(), toPath: data.appendingPathComponent("\(i).png").path)
                captions += "\(i).png\timage \(i)\n"
            }
            try Data(captions.utf8).write(to: data.appendingPathComponent("captions.tsv"))
        }
        let out = directory.appendingPathComponent("vae-\(precision)-\(environment.count)")
        let result = try DiffuseBinary.run(["train-vae", "--data", data.path, "--out", out.path, "--steps", "2", "--batch-size", "2",
                                            "--precision", precision], environment: environment)
        assertSuccess(result, "train-vae --precision \(precision)")
        let warnings = result.stderr.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("warning:") }
        return (try Data(contentsOf: out.appendingPathComponent("diffusion_pytorch_model.safetensors")), warnings)
    }

    func testTrainingTakesThePrecisionToo() throws {
        let (float32, quiet) = try trainVAE("fp32")
        XCTAssertEqual(quiet, [])
        let (bfloat16, warnings) = try trainVAE("bf16")
        if ComputePrecision.nativeBFloat16 {
            XCTAssertEqual(warnings, [])
            XCTAssertNotEqual(bfloat16, float32, "bf16 should move the weights")
        } else {
            XCTAssertEqual(warnings.count, 1, "one line says that bf16 runs as float32: \(warnings)")
            XCTAssertEqual(bfloat16, float32, "the fallback is float32 itself")
        }
        let (emulated, none) = try trainVAE("bf16", environment: [ComputePrecision.emulationVariable: "1"])
        XCTAssertEqual(none, [])
        XCTAssertNotEqual(emulated, float32, "bf16 products should move the weights")
    }
}
