// AutoencoderKL against diffusers' reference outputs, parameter count, save/load and training gradients.
import Foundation
import Models
import NN
import TensorCore
import TestSupport
import XCTest

final class AutoencoderKLTests: XCTestCase {
    func testEncodeMatchesDiffusers() throws {
        let vae = try AutoencoderKL.load(directory: TinyFixture.component("vae"))
        let ref = try TinyFixture.reference("vae_encode.safetensors")
        let x = try Tensor(ref, "x")
        try Autograd.withoutGrad {
            let (mean, logvar) = vae.encode(x)
            assertClose(mean, try Tensor(ref, "mean"), relative: 1e-4, "mean")
            assertClose(logvar, try Tensor(ref, "logvar"), relative: 1e-4, "logvar")
            assertClose((logvar * 0.5).exp(), try Tensor(ref, "std"), relative: 1e-4, "std")
            let sample = vae.sample(mean: mean, logvar: logvar, noise: try Tensor(ref, "posterior_noise"))
            assertClose(sample, try Tensor(ref, "sample"), relative: 1e-4, "sample")
        }
    }

    func testDecodeMatchesDiffusersSquareAndNonSquare() throws {
        let vae = try AutoencoderKL.load(directory: TinyFixture.component("vae"))
        let ref = try TinyFixture.reference("vae_decode.safetensors")
        try Autograd.withoutGrad {
            assertClose(vae.decode(try Tensor(ref, "z")), try Tensor(ref, "sample"), relative: 1e-4, "sample")
            assertClose(vae.decode(try Tensor(ref, "z_rect")), try Tensor(ref, "sample_rect"), relative: 1e-4, "sample_rect")
        }
    }

    func testParameterCountMatchesDiffusers() throws {
        let vae = try AutoencoderKL.load(directory: TinyFixture.component("vae"))
        XCTAssertEqual(vae.parameterCount, 658_375)
        // A fresh model from the same config has the checkpoint's exact keys and shapes.
        let fresh = try AutoencoderKL(config: vae.config, seed: 3)
        let file = try SafetensorsFile(contentsOf: TinyFixture.component("vae/diffusion_pytorch_model.safetensors"))
        XCTAssertEqual(fresh.namedParameters().map(\.key).sorted(), file.names)
        for (key, parameter) in fresh.namedParameters() { XCTAssertEqual(parameter.shape, try file.shape(key), key) }
    }

    func testSaveLoadRoundTripIsBitExact() throws {
        let vae = try AutoencoderKL.load(directory: TinyFixture.component("vae"))
        let directory = try TinyFixture.temporaryDirectory("vae")
        defer { try? FileManager.default.removeItem(at: directory) }
        try vae.save(directory: directory)
        let reloaded = try AutoencoderKL.load(directory: directory)
        XCTAssertEqual(reloaded.config, vae.config)
        assertBitIdenticalParameters(vae, reloaded)
        // The written config is the one diffusers wrote, entry for entry.
        let written = try ConfigFile.read([String: ConfigValue].self, from: directory.appendingPathComponent("config.json"))
        let original = try ConfigFile.read([String: ConfigValue].self, from: TinyFixture.component("vae/config.json"))
        XCTAssertEqual(written, original)
    }

    func testHalfPrecisionSaveLoadsWithinRounding() throws {
        let vae = try AutoencoderKL.load(directory: TinyFixture.component("vae"))
        let directory = try TinyFixture.temporaryDirectory("vae16")
        defer { try? FileManager.default.removeItem(at: directory) }
        try vae.save(directory: directory, dtype: .f16)
        let reloaded = try AutoencoderKL.load(directory: directory)
        for (a, b) in zip(vae.namedParameters(), reloaded.namedParameters()) {
            for (x, y) in zip(a.parameter.value.values, b.parameter.value.values) {
                XCTAssertLessThanOrEqual(abs(x - y), abs(x) * 1e-3 + 1e-7, a.key)   // fp16: 11-bit mantissa
            }
        }
    }

    func testScalingHelpersInvertEachOther() throws {
        var config = AutoencoderKLConfig()
        config.blockOutChannels = [32]
        config.downBlockTypes = ["DownEncoderBlock2D"]
        config.upBlockTypes = ["UpDecoderBlock2D"]
        config.shiftFactor = 0.25
        let vae = try AutoencoderKL(config: config)
        let z = try Tensor(shape: [1, 4, 1, 2], values: [1, -2, 0.5, 3, 0, 4, -1, 2])
        let scaled = vae.scaleLatents(z)
        XCTAssertEqual(scaled.values[0], (1 - 0.25) * 0.18215, accuracy: 1e-6)
        let back = vae.unscaleLatents(scaled)
        for (a, b) in zip(back.values, z.values) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testEveryParameterReceivesAGradient() throws {
        let vae = try AutoencoderKL.load(directory: TinyFixture.component("vae"))
        let ref = try TinyFixture.reference("vae_encode.safetensors")
        let x = try Tensor(ref, "x").slice(axis: 2, start: 0, length: 16).slice(axis: 3, start: 0, length: 16)
        let (mean, logvar) = vae.encode(x)
        let recon = vae.decode(vae.sample(mean: mean, logvar: logvar, noise: .ones(mean.shape)))
        let loss = recon.mseLoss(x) + AutoencoderKL.klDivergence(mean: mean, logvar: logvar).mean() * 1e-6
        loss.backward()
        for (key, parameter) in vae.namedParameters() {
            guard let grad = parameter.grad else { XCTFail("no gradient for \(key)"); continue }
            XCTAssertTrue(grad.values.contains { $0 != 0 }, "zero gradient for \(key)")
        }
    }

    func testKLDivergenceMatchesClosedForm() throws {
        let mean = try Tensor(shape: [1, 1, 1, 2], values: [0.5, -1])
        let logvar = try Tensor(shape: [1, 1, 1, 2], values: [0.2, -0.3])
        let kl = AutoencoderKL.klDivergence(mean: mean, logvar: logvar).values
        let expected = 0.5 * ((0.25 + exp(0.2) - 1 - 0.2) + (1 + exp(-0.3) - 1 + 0.3))
        XCTAssertEqual(Double(kl[0]), expected, accuracy: 1e-6)
    }

    func testBadInputShapeIsAnError() throws {
        let vae = try AutoencoderKL.load(directory: TinyFixture.component("vae"))
        XCTAssertThrowsError(try vae.validateImages(.zeros([1, 4, 8, 8]))) { XCTAssertTrue("\($0)".contains("[1, 4, 8, 8]")) }
        XCTAssertThrowsError(try vae.validateImages(.zeros([1, 3, 1, 8]))) { XCTAssertTrue("\($0)".contains("at least 2")) }
        XCTAssertNoThrow(try vae.validateImages(.zeros([1, 3, 2, 6])))
        XCTAssertThrowsError(try vae.validateLatents(.zeros([1, 3, 8, 8])))
        XCTAssertNoThrow(try vae.validateLatents(.zeros([2, 4, 1, 3])))
    }
}
