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
    public var steps = SamplingDefaults.steps
    public var guidance = SamplingDefaults.guidance
    public var scheduler: String?
    public var seed: UInt64 = 0
    public var count = 1
    /// Noise for the VAE posterior sample ([1, C, h, w]); nil draws it from the seed.
    public var posteriorNoise: Tensor?
    /// Noise added to the init latents ([count, C, h, w]); nil draws it from the seed.
    public var noise: Tensor?

    public init(prompt: String, image: Tensor) {
        self.prompt = prompt
        self.image = image
    }
}

/// Where the img2img loop starts: diffusers' `prepare_latents` and `get_timesteps`.
public struct ImageToImageStart {
    /// scaling_factor × posterior sample, repeated `count` times, [count, C, h, w].
    public let initLatents: Tensor
    /// The timestep the init latents are noised to (nil when strength leaves no steps).
    public let latentTimestep: Double?
    /// `add_noise(initLatents, noise, latentTimestep)`, [count, C, h, w].
    public let noisyLatents: Tensor
    /// The loop's timesteps (the tail of the full schedule).
    public let timesteps: [Double]
}

extension StableDiffusion {
    public func imageToImage(_ request: ImageToImageRequest, warn: (String) -> Void = { _ in },
                             onStep: (DenoisingStep) throws -> Void = { _ in }) throws -> GenerationResult {
        let guided = request.guidance > 1
        if let note = sizeNote(width: request.image.shape.last ?? 0, height: request.image.rank == 4 ? request.image.shape[2] : 0) {
            warn(note)
        }
        var scheduler = try makeScheduler(named: request.scheduler)
        var generator = TorchGenerator(seed: request.seed)
        let start = try prepareImageToImage(request, scheduler: &scheduler, generator: &generator)
        guard !start.timesteps.isEmpty else {
            return GenerationResult(images: try decode(latents: start.initLatents), latents: start.initLatents, timesteps: [])
        }
        let context = try encodePrompt(request.prompt, negativePrompt: request.negativePrompt, count: request.count,
                                       guided: guided, warn: warn)
        let latents = try denoise(latents: start.noisyLatents, timesteps: start.timesteps, scheduler: &scheduler,
                                  context: context, guidance: request.guidance, generator: &generator, onStep: onStep)
        return GenerationResult(images: try decode(latents: latents), latents: latents, timesteps: start.timesteps,
                                initialLatents: start.noisyLatents)
    }

    /// Checks the request, sets `scheduler`'s timesteps for the strength, encodes the image and
    /// noises it to the first remaining timestep. Noise not given in the request comes from
    /// `generator`: the posterior sample's first, then the forward noise, as diffusers draws them.
    public func prepareImageToImage(_ request: ImageToImageRequest, scheduler: inout Scheduler,
                                    generator: inout TorchGenerator) throws -> ImageToImageStart {
        guard (0...1).contains(request.strength) else {
            throw PipelineError.invalidField("strength", reason: "must be in [0, 1], got \(request.strength)")
        }
        guard request.steps >= 1 else { throw PipelineError.invalidField("steps", reason: "must be at least 1, got \(request.steps)") }
        guard request.count >= 1 else { throw PipelineError.invalidField("count", reason: "must be at least 1, got \(request.count)") }
        let image = request.image
        guard image.rank == 4, image.shape[0] == 1, image.shape[1] == 3 else {
            throw PipelineError.invalidArgument("the init image has shape \(image.shape), expected [1, 3, H, W]")
        }
        try validateSize(width: image.shape[3], height: image.shape[2])
        try scheduler.setTimesteps(request.steps)
        let timesteps = scheduler.timestepsForStrength(request.strength, count: request.steps)

        let encoded: Tensor  // [1, C, h, w]
        if let posteriorNoise = request.posteriorNoise {
            encoded = try encodeSample(images: image, noise: posteriorNoise)
        } else {
            encoded = try encodeSample(images: image, generator: &generator)
        }
        let initial = request.count == 1 ? encoded : Tensor.concat(Array(repeating: encoded, count: request.count), axis: 0)
        guard let first = timesteps.first else {
            return ImageToImageStart(initLatents: initial, latentTimestep: nil, noisyLatents: initial, timesteps: [])
        }
        let noise: Tensor  // [count, C, h, w]
        if let given = request.noise {
            guard given.shape == initial.shape else {
                throw PipelineError.invalidArgument("img2img noise has shape \(given.shape), expected \(initial.shape)")
            }
            noise = given
        } else {
            noise = try Tensor(shape: initial.shape, values: generator.randn(count: initial.count))
        }
        let noisy = try Autograd.withoutGrad { try scheduler.addNoise(original: initial, noise: noise, timestep: first) }
        return ImageToImageStart(initLatents: initial, latentTimestep: first, noisyLatents: noisy, timesteps: timesteps)
    }
}
