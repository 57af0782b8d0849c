// Image to image against diffusers' StableDiffusionImg2ImgPipeline with the fixture's saved noise.
import Foundation
import Pipelines
import Schedulers
import TensorCore
import TestSupport
import XCTest

final class ImageToImageTests: XCTestCase {
    /// The reference run: strength 0.6, 5 steps, guidance 7.5, negative prompt "".
    private func referenceRequest(_ reference: SafetensorsFile) throws -> ImageToImageRequest {
        let unit = try PipelineFixture.tensor(reference, "inputs/init_image")  // [1, 3, 64, 64] in [0, 1]
        var request = ImageToImageRequest(prompt: PipelineFixture.prompt, image: Autograd.withoutGrad { unit * 2 - 1 })
        request.strength = 0.6
        request.steps = 5
        request.guidance = 7.5
        request.negativePrompt = ""
        request.posteriorNoise = try PipelineFixture.tensor(reference, "inputs/posterior_noise")
        request.noise = try PipelineFixture.tensor(reference, "inputs/noise")
        return request
    }

    func testStartMatchesDiffusersPrepareLatents() throws {
        let model = try PipelineFixture.model()
        let reference = try PipelineFixture.reference("pipeline_img2img.safetensors")
        var scheduler = try model.makeScheduler(named: nil)
        var generator = TorchGenerator(seed: 0)
        let start = try model.prepareImageToImage(try referenceRequest(reference), scheduler: &scheduler, generator: &generator)
        assertClose(start.initLatents, try PipelineFixture.tensor(reference, "init_latents"), relative: 1e-4, "init_latents")
        XCTAssertEqual(start.latentTimestep, try reference.floats("latent_timestep").first.map(Double.init))
        XCTAssertEqual(start.timesteps, try reference.floats("timesteps").map(Double.init))
        assertClose(start.noisyLatents, try PipelineFixture.tensor(reference, "noisy_latents"), relative: 1e-4, "noisy_latents")
        // Both noises were given, so nothing was drawn from the generator.
        XCTAssertEqual(generator.state, TorchGenerator(seed: 0).state)
    }

    func testLoopAndImageMatchDiffusers() throws {
        let model = try PipelineFixture.model()
        let reference = try PipelineFixture.reference("pipeline_img2img.safetensors")
        var steps: [DenoisingStep] = []
        let result = try model.imageToImage(try referenceRequest(reference), onStep: { steps.append($0) })
        let expectedTimesteps = try reference.floats("timesteps").map(Double.init)
        XCTAssertEqual(steps.map(\.timestep), expectedTimesteps)
        XCTAssertEqual(result.timesteps, expectedTimesteps)
        let latentsSteps = try PipelineFixture.tensor(reference, "latents_steps")  // [4, 1, 4, 32, 32]
        XCTAssertEqual(steps.count, latentsSteps.shape[0])
        for (i, step) in steps.enumerated() where i < latentsSteps.shape[0] {
            assertClose(step.latents, try latentsSteps.entry(i), relative: 1e-3, "latents_steps[\(i)]")
        }
        assertClose(result.images.imagesToUnitNHWC(), try PipelineFixture.tensor(reference, "image"), absolute: 1e-3, "image")
    }

    /// Without given noise, the posterior noise is the seed's first draw and the forward noise
    /// its second, as diffusers draws them from one generator.
    func testSeededNoiseIsDrawnInDiffusersOrder() throws {
        let model = try PipelineFixture.model()
        let reference = try PipelineFixture.reference("pipeline_img2img.safetensors")
        var seeded = try referenceRequest(reference)
        seeded.posteriorNoise = nil
        seeded.noise = nil
        seeded.seed = 7
        var scheduler = try model.makeScheduler(named: nil)
        var generator = TorchGenerator(seed: seeded.seed)
        let fromSeed = try model.prepareImageToImage(seeded, scheduler: &scheduler, generator: &generator)

        var draws = TorchGenerator(seed: 7)
        let shape = [1, 4, 32, 32]
        var explicit = seeded
        explicit.posteriorNoise = try Tensor(shape: shape, values: draws.randn(count: 4 * 32 * 32))
        explicit.noise = try Tensor(shape: shape, values: draws.randn(count: 4 * 32 * 32))
        var scheduler2 = try model.makeScheduler(named: nil)
        var unused = TorchGenerator(seed: 0)
        let fromNoise = try model.prepareImageToImage(explicit, scheduler: &scheduler2, generator: &unused)
        XCTAssertEqual(fromSeed.noisyLatents.values, fromNoise.noisyLatents.values)
        XCTAssertEqual(generator.state, draws.state)
    }

    func testStrengthZeroKeepsTheEncodedImageAndBadInputsThrow() throws {
        let model = try PipelineFixture.model()
        let reference = try PipelineFixture.reference("pipeline_img2img.safetensors")
        var request = try referenceRequest(reference)
        request.strength = 0
        request.scheduler = "ddim"  // (PNDM's repeated warm-up timestep would leave one step)
        var steps = 0
        let result = try model.imageToImage(request, onStep: { _ in steps += 1 })
        XCTAssertEqual(steps, 0)
        XCTAssertEqual(result.timesteps, [])
        assertClose(result.latents, try PipelineFixture.tensor(reference, "init_latents"), relative: 1e-4, "strength 0 latents")

        request.strength = 1.5
        XCTAssertThrowsError(try model.imageToImage(request)) { XCTAssertTrue($0 is PipelineError, "\($0)") }
        request.strength = 0.6
        request.scheduler = nil
        request.noise = Tensor.zeros([1, 4, 16, 16])
        XCTAssertThrowsError(try model.imageToImage(request)) { XCTAssertTrue($0 is PipelineError, "\($0)") }
        request.noise = nil
        request.image = Tensor.zeros([1, 3, 64, 62])
        XCTAssertThrowsError(try model.imageToImage(request)) { XCTAssertTrue($0 is PipelineError, "\($0)") }
    }
}
