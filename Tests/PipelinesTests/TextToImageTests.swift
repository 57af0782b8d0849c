// Text to image against diffusers' StableDiffusionPipeline on the tiny fixture pipeline.
import Foundation
import Pipelines
import TensorCore
import TestSupport
import XCTest

final class TextToImageTests: XCTestCase {
    /// pipe(prompt, negative_prompt=…, guidance_scale=7.5, num_inference_steps=5, 64×64,
    /// latents=inputs/latents): embeddings, every step's latents, decoded and final image.
    private func checkAgainstReference(negativePrompt: String, group: String) throws {
        let model = try PipelineFixture.model()
        let reference = try PipelineFixture.reference("pipeline_txt2img.safetensors")

        let embeddings = try model.encodePrompt(PipelineFixture.prompt, negativePrompt: negativePrompt, count: 1, guided: true)
        assertClose(embeddings, try PipelineFixture.tensor(reference, "\(group)/prompt_embeds"), relative: 1e-4, "\(group) prompt_embeds")

        var request = GenerationRequest(prompt: PipelineFixture.prompt)
        request.negativePrompt = negativePrompt
        request.steps = 5
        request.guidance = 7.5
        request.width = 64
        request.height = 64
        request.latents = try PipelineFixture.tensor(reference, "inputs/latents")
        var steps: [DenoisingStep] = []
        let result = try model.generate(request, onStep: { steps.append($0) })

        let expectedTimesteps = try reference.floats("\(group)/timesteps").map(Double.init)
        XCTAssertEqual(steps.map(\.timestep), expectedTimesteps, "\(group) timesteps")
        XCTAssertEqual(result.timesteps, expectedTimesteps)
        let latentsSteps = try PipelineFixture.tensor(reference, "\(group)/latents_steps")  // [L, 1, 4, 32, 32]
        XCTAssertEqual(steps.count, latentsSteps.shape[0], "\(group): loop iterations")
        for (i, step) in steps.enumerated() where i < latentsSteps.shape[0] {
            XCTAssertEqual(step.index, i)
            XCTAssertEqual(step.count, steps.count)
            assertClose(step.latents, try latentsSteps.entry(i), relative: 1e-3, "\(group) latents_steps[\(i)]")
        }
        assertClose(result.latents, try latentsSteps.entry(latentsSteps.shape[0] - 1), relative: 1e-3, "\(group) final latents")
        assertClose(result.images, try PipelineFixture.tensor(reference, "\(group)/decoded"), absolute: 1e-3, "\(group) decoded")
        assertClose(result.images.imagesToUnitNHWC(), try PipelineFixture.tensor(reference, "\(group)/image"),
                    absolute: 1e-3, "\(group) image")
    }

    func testEmptyNegativePromptMatchesDiffusers() throws {
        try checkAgainstReference(negativePrompt: "", group: "neg_empty")
    }

    func testNegativePromptGreenMatchesDiffusers() throws {
        try checkAgainstReference(negativePrompt: "green", group: "neg_green")
    }

    /// pipe(prompt, generator=torch.Generator("cpu").manual_seed(0), 5 steps, 64×64): the seed
    /// alone must give the same initial latents (exactly) and the same image.
    func testSeedZeroReproducesTorchGeneratorPipeline() throws {
        let model = try PipelineFixture.model()
        let reference = try SafetensorsFile(contentsOf: try SharedData.url("fixtures/torch-randn/pipeline_seed0.safetensors"))
        var request = GenerationRequest(prompt: PipelineFixture.prompt)
        request.steps = 5
        request.guidance = 7.5
        request.seed = 0
        request.width = 64
        request.height = 64
        let result = try model.generate(request)
        let initial = try XCTUnwrap(result.initialLatents)
        let expected = try PipelineFixture.tensor(reference, "initial_latents")
        XCTAssertEqual(initial.shape, expected.shape)
        XCTAssertEqual(initial.values, expected.values, "initial latents must be bit-identical to torch's draw")
        assertClose(result.images.imagesToUnitNHWC(), try PipelineFixture.tensor(reference, "image"), absolute: 1e-3, "seed 0 image")
    }

    func testBadRequestsAreTypedErrors() throws {
        let model = try PipelineFixture.model()
        var request = GenerationRequest(prompt: "x")
        request.steps = 2
        request.width = 66  // not a multiple of 4 (VAE factor 2 × U-Net downsampling 2)
        XCTAssertThrowsError(try model.generate(request)) { XCTAssertTrue($0 is PipelineError, "\($0)") }
        request.width = 64
        request.steps = 0
        XCTAssertThrowsError(try model.generate(request)) { XCTAssertTrue($0 is PipelineError, "\($0)") }
        request.steps = 2
        request.latents = Tensor.zeros([1, 3, 32, 32])
        XCTAssertThrowsError(try model.generate(request)) { XCTAssertTrue($0 is PipelineError, "\($0)") }
        request.latents = nil
        request.scheduler = "no-such-sampler"
        XCTAssertThrowsError(try model.generate(request))
    }

    /// A per-step callback that throws (a cancelled server job) ends the loop at that step.
    func testThrowingStepCallbackStopsTheLoop() throws {
        struct Stop: Error {}
        let model = try PipelineFixture.model()
        var request = GenerationRequest(prompt: PipelineFixture.prompt)
        request.steps = 5
        var seen = 0
        XCTAssertThrowsError(try model.generate(request, onStep: { step in
            seen += 1
            if step.index == 1 { throw Stop() }
        })) { XCTAssertTrue($0 is Stop, "\($0)") }
        XCTAssertEqual(seen, 2, "no step after the one that threw")
    }
}
