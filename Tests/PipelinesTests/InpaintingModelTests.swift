// An inpainting U-Net (9 input channels) in the inpaint pipeline: it is given the mask and the
// masked image's latents, the unmasked pixels are kept, and the masked image's content steers it.
// (Against diffusers' StableDiffusionInpaintPipeline: scripts/check-inpaint-diffusers.sh.)
import Foundation
import Models
import Pipelines
import TensorCore
import TestSupport
import XCTest

final class InpaintingModelTests: XCTestCase {
    /// The tiny pipeline with a random U-Net that takes latents + mask + masked-image latents.
    private func inpaintingModel() throws -> StableDiffusion {
        let base = try StableDiffusion.load(directory: try SharedData.url("fixtures/diffusers-tiny"))
        var config = base.unet.config
        config.inChannels = 2 * base.vae.config.latentChannels + 1
        return StableDiffusion(directory: base.directory, tokenizer: base.tokenizer, textEncoder: base.textEncoder,
                               unet: try UNet2DConditionModel(config: config, seed: 7), vae: base.vae,
                               schedulerConfig: base.schedulerConfig)
    }

    private func image(_ pattern: Int) throws -> Tensor {   // [1, 3, 64, 64] in [-1, 1]
        try Tensor(shape: [1, 3, 64, 64], values: (0..<(3 * 64 * 64)).map { Float(($0 * pattern) % 200) / 100 - 1 })
    }

    func testInpaintingUNetKeepsUnmaskedPixelsAndReadsTheMaskedImage() throws {
        let model = try inpaintingModel()
        XCTAssertTrue(model.isInpaintingModel)
        XCTAssertFalse(try PipelineFixture.model().isInpaintingModel)
        let mask = (0..<(64 * 64)).map { Float($0 % 64 < 32 ? 1 : 0) }   // repaint the left half
        func inpaint(_ image: Tensor) throws -> Tensor {
            var request = InpaintRequest(prompt: PipelineFixture.prompt, image: image, mask: mask)
            request.steps = 3
            return try model.inpaint(request).images   // [1, 3, 64, 64]
        }
        let first = try image(37), second = try image(53)
        let (a, b) = (try inpaint(first), try inpaint(second))
        var keptError: Float = 0, changed: Float = 0, steered: Float = 0
        for c in 0..<3 {
            for p in 0..<(64 * 64) {
                let i = c * 4096 + p
                if mask[p] == 0 {
                    keptError = max(keptError, abs(a.values[i] - first.values[i]))
                } else {
                    changed = max(changed, abs(a.values[i] - first.values[i]))
                    steered = max(steered, abs(a.values[i] - b.values[i]))
                }
            }
        }
        XCTAssertEqual(keptError, 0, "unmasked pixels are kept exactly")
        XCTAssertGreaterThan(changed, 0.05, "the masked area is repainted")
        // Same seed and prompt: only the masked image's latents (the unmasked half) differ.
        XCTAssertGreaterThan(steered, 1e-3, "the U-Net reads the masked image")
    }
}
