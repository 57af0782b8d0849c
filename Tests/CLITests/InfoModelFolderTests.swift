// End-to-end tests of `diffuse info MODEL_DIR` on the tiny fixture pipeline.
import Foundation
import TestSupport
import XCTest

final class InfoModelFolderTests: XCTestCase {
    /// Parameter counts of the fixture's weight files (sums of their tensors' element counts).
    private let expectedParameters = ["unet": 1_427_012, "vae": 658_375, "text_encoder": 1_617_529]

    func testTextReportShowsComponentsCountsAndConfig() throws {
        let result = try DiffuseBinary.run(["info", try CLIFixture.modelPath()])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        for (name, count) in expectedParameters {
            XCTAssertTrue(lines.contains { $0.hasPrefix("\(name):") && $0.contains("\(count) parameters") && $0.contains("F32") },
                          "\(name) \(count): \(result.stdout)")
        }
        for text in ["UNet2DConditionModel", "AutoencoderKL", "CLIPTextModel", "CLIPTokenizer", "PNDMScheduler",
                     "block_out_channels: [32, 64]", "latent_channels: 4", "scaling_factor: 0.18215",
                     "cross_attention_dim: 32", "hidden_size: 32", "num_hidden_layers: 5", "prediction_type: epsilon",
                     "image size:   64×64 by default",  // 32×32 latents, two VAE blocks: one halving
                     "total:        \(expectedParameters.values.reduce(0, +)) parameters"] {
            XCTAssertTrue(result.stdout.contains(text), "missing '\(text)' in:\n\(result.stdout)")
        }
    }

    func testJSONReport() throws {
        let result = try DiffuseBinary.run(["info", try CLIFixture.modelPath(), "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["pipeline"] as? String, "StableDiffusionPipeline")
        let components = try XCTUnwrap(object["components"] as? [String: [String: Any]])
        for (name, count) in expectedParameters {
            XCTAssertEqual(components[name]?["parameters"] as? Int, count, name)
            XCTAssertEqual(components[name]?["dtype"] as? String, "F32", name)
        }
        XCTAssertEqual(object["total_parameters"] as? Int, expectedParameters.values.reduce(0, +))
        XCTAssertEqual(object["image_size"] as? Int, 64)
        XCTAssertEqual(components["unet"]?["class"] as? String, "UNet2DConditionModel")
        XCTAssertEqual(components["scheduler"]?["class"] as? String, "PNDMScheduler")
        XCTAssertNil(components["scheduler"]?["parameters"])
        let unet = try XCTUnwrap(components["unet"]?["config"] as? [String: Any])
        XCTAssertEqual(unet["block_out_channels"] as? [Int], [32, 64])
        XCTAssertEqual(unet["cross_attention_dim"] as? Int, 32)
        let vae = try XCTUnwrap(components["vae"]?["config"] as? [String: Any])
        XCTAssertEqual(vae["latent_channels"] as? Int, 4)
        XCTAssertEqual(try XCTUnwrap(vae["scaling_factor"] as? Double), 0.18215, accuracy: 1e-12)
        let text = try XCTUnwrap(components["text_encoder"]?["config"] as? [String: Any])
        XCTAssertEqual(text["hidden_size"] as? Int, 32)
        XCTAssertEqual(text["num_hidden_layers"] as? Int, 5)
        let scheduler = try XCTUnwrap(components["scheduler"]?["config"] as? [String: Any])
        XCTAssertEqual(scheduler["prediction_type"] as? String, "epsilon")
    }

    func testAFolderWithoutModelIndexFailsCleanly() throws {
        let directory = try CLIFixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try DiffuseBinary.run(["info", directory.path])
        assertCleanFailure(result, "info on an empty folder")
        XCTAssertTrue(result.stderr.contains("model_index.json"), result.stderr)
    }
}
