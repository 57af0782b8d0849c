// Parameter counts from configs alone match the models built from them, and a config whose model
// would exceed the memory limit is refused before any weight is allocated.
import Foundation
import Models
import TensorCore
import TestSupport
import XCTest

final class ParameterCountTests: XCTestCase {
    /// Every component of the tiny fixture and of the shipped model: the count from the config is
    /// exactly the count of the model that config builds (zero weights, no file read).
    func testCountsFromConfigsMatchTheBuiltModels() throws {
        let folders = [try SharedData.url("fixtures/diffusers-tiny"), SharedData.repositoryRoot.appendingPathComponent("models/emoji")]
        for folder in folders {
            let vae = try AutoencoderKL.loadConfig(directory: folder.appendingPathComponent("vae"))
            XCTAssertEqual(vae.parameterCount, try AutoencoderKL(config: vae, seed: nil).parameterCount, "\(folder.path) vae")
            let unet = try UNet2DConditionModel.loadConfig(directory: folder.appendingPathComponent("unet"))
            XCTAssertEqual(unet.parameterCount, try UNet2DConditionModel(config: unet, seed: nil).parameterCount, "\(folder.path) unet")
            let text = try CLIPTextModel.loadConfig(directory: folder.appendingPathComponent("text_encoder"))
            XCTAssertEqual(text.parameterCount, try CLIPTextModel(config: text, seed: nil).parameterCount, "\(folder.path) text")
        }
        // Variants the fixtures do not cover: linear projections, no attention in the VAE's middle.
        var unet = try UNet2DConditionModel.loadConfig(directory: try SharedData.url("fixtures/diffusers-tiny/unet"))
        unet.useLinearProjection = true
        unet.layersPerBlock = .list([1, 2])
        XCTAssertEqual(unet.parameterCount, try UNet2DConditionModel(config: unet, seed: nil).parameterCount, "linear projections")
        var vae = AutoencoderKLConfig()
        vae.midBlockAddAttention = false
        vae.useQuantConv = false
        XCTAssertEqual(vae.parameterCount, try AutoencoderKL(config: vae, seed: nil).parameterCount, "no mid attention")
    }

    /// The VAE of issue #24 (block_out_channels [4096, 8192], about 6 GB): refused by validate()
    /// and by the model's constructor, naming the limit, without allocating it.
    func testAConfigOverTheLimitIsRefusedBeforeAllocation() throws {
        var config = AutoencoderKLConfig()
        config.blockOutChannels = [4096, 8192]
        config.downBlockTypes = Array(repeating: "DownEncoderBlock2D", count: 2)
        config.upBlockTypes = Array(repeating: "UpDecoderBlock2D", count: 2)
        XCTAssertGreaterThan(config.parameterCount, 1_000_000_000)
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertTrue("\(error)".contains("DIFFUSE_MAX_MODEL_BYTES"), "\(error)")
        }
        XCTAssertThrowsError(try AutoencoderKL(config: config, seed: nil)) { XCTAssertTrue($0 is ConfigError, "\($0)") }
        // Sizes whose product overflows Int saturate instead of trapping.
        config.blockOutChannels = [1 << 40, 1 << 40]
        config.normNumGroups = 1
        XCTAssertEqual(config.parameterCount, Int.max)
        XCTAssertThrowsError(try config.validate())
    }
}
