// Image to image (SDEdit); matches diffusers StableDiffusionImg2ImgPipeline.
import Foundation
import Models
import Schedulers
import TensorCore

public struct ImageToImageRequest {
    public var prompt: String
    /// The starting image, [1, 3, H, W] in [-1, 1].
    public var image: Tensor
    /// How far to re-noise: 0 keeps the image, 1 starts from pure noise.
    public var strength: Double = 0.8
    public var negativePrompt = ""
    public var steps = 25
    public var guidance: Float = 7.5
    public var scheduler: String?
    public var seed: UInt64 = 0
    public var count = 1

    public init(prompt: String, image: Tensor) {
        self.prompt = prompt
        self.image = image
    }
}

extension StableDiffusion {
    public func imageToImage(_ request: ImageToImageRequest, warn: (String) -> Void = { _ in },
                             onStep: (DenoisingStep) -> Void = { _ in }) throws -> GenerationResult {
        guard (0...1).contains(request.strength) else {
            throw PipelineError.invalidArgument("--strength must be in [0, 1], got \(request.strength)")
        }
        guard request.steps >= 1, request.count >= 1 else {
            throw PipelineError.invalidArgument("--steps and --count must be at least 1")
        }
        try validateSize(width: request.image.shape[3], height: request.image.shape[2])
        let guided = request.guidance > 1
        let context = try encodePrompt(request.prompt, negativePrompt: request.negativePrompt, count: request.count,
                                   guided: guided, warn: warn)
        var scheduler = try makeScheduler(named: request.scheduler)
        try scheduler.setTimesteps(request.steps)
        let timesteps = scheduler.timestepsForStrength(request.strength, count: request.steps)
        var generator = TorchGenerator(seed: request.seed)
        // diffusers draws the posterior noise first, then the forward-process noise.
        let encoded = try encodeSample(images: request.image, generator: &generator)
        let initial = Tensor.concat(Array(repeating: encoded, count: request.count), axis: 0)
        guard let first = timesteps.first else { return GenerationResult(images: request.image, latents: initial, timesteps: []) }
        let noise = try generator.randn(count: initial.count)
        let noisy = try Tensor(shape: initial.shape, values: scheduler.addNoise(original: initial.values, noise: noise, timestep: first))
        let latents = try denoise(latents: noisy, timesteps: timesteps, scheduler: &scheduler, context: context,
                                  guidance: request.guidance, generator: &generator, onStep: onStep)
        return GenerationResult(images: try decode(latents: latents), latents: latents, timesteps: timesteps)
    }
}
