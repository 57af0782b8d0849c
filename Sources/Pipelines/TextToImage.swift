// Text to image with classifier-free guidance; matches diffusers StableDiffusionPipeline.
import Foundation
import Models
import Schedulers
import TensorCore

public struct GenerationRequest {
    public var prompt: String
    public var negativePrompt = ""
    public var steps = SamplingDefaults.steps
    public var guidance = SamplingDefaults.guidance
    /// A scheduler name (`ddim`, `euler`, …) or nil for the folder's own.
    public var scheduler: String?
    public var seed: UInt64 = 0
    /// Pixel size; nil means the model's native size.
    public var width: Int?
    public var height: Int?
    public var count = 1
    /// Start from these latents ([N, C, h, w], before `init_noise_sigma` scaling) instead of the seed.
    public var latents: Tensor?

    public init(prompt: String) { self.prompt = prompt }
}

public struct GenerationResult {
    /// Decoded images, [N, 3, H, W], in [-1, 1] (unclamped).
    public let images: Tensor
    /// Final latents, [N, C, h, w].
    public let latents: Tensor
    public let timesteps: [Double]
    /// The latents the loop started from, [N, C, h, w] (text to image: the seed's draw or the
    /// given latents, before `init_noise_sigma` scaling); nil when not recorded.
    public let initialLatents: Tensor?

    public init(images: Tensor, latents: Tensor, timesteps: [Double], initialLatents: Tensor? = nil) {
        self.images = images
        self.latents = latents
        self.timesteps = timesteps
        self.initialLatents = initialLatents
    }
}

extension StableDiffusion {
    /// The pixel size the U-Net was configured for (its `sample_size` latents).
    public var nativeSize: Int {
        let latentSize: Int
        switch unet.config.sampleSize {
        case .single(let size): latentSize = size
        case .list(let sizes): latentSize = sizes.first ?? 64
        case nil: latentSize = 64
        }
        // A hostile sample_size saturates here; the pixel limit then refuses it with a message.
        let (size, overflow) = latentSize.multipliedReportingOverflow(by: vaeScaleFactor)
        return overflow ? .max : size
    }

    public func generate(_ request: GenerationRequest, warn: (String) -> Void = { _ in },
                         onStep: (DenoisingStep) throws -> Void = { _ in }) throws -> GenerationResult {
        // Given latents fix the size unless the request names one.
        let latentSize = request.latents.flatMap { $0.rank == 4 ? ($0.shape[2], $0.shape[3]) : nil }
        let width = request.width ?? latentSize.map { $0.1 * vaeScaleFactor } ?? nativeSize
        let height = request.height ?? latentSize.map { $0.0 * vaeScaleFactor } ?? nativeSize
        try validateSize(width: width, height: height)
        guard request.steps >= 1 else { throw PipelineError.invalidField("steps", reason: "must be at least 1, got \(request.steps)") }
        guard request.count >= 1 else { throw PipelineError.invalidField("count", reason: "must be at least 1, got \(request.count)") }
        try SamplingDefaults.validateGuidance(request.guidance)
        let shape = [request.count, latentChannels, height / vaeScaleFactor, width / vaeScaleFactor]
        let guided = request.guidance > 1
        let context = try encodePrompt(request.prompt, negativePrompt: request.negativePrompt, count: request.count,
                                   guided: guided, warn: warn)
        var scheduler = try makeScheduler(named: request.scheduler)
        try scheduler.setTimesteps(request.steps)
        var generator = TorchGenerator(seed: request.seed)
        let start: Tensor
        if let given = request.latents {
            guard given.shape == shape else {
                throw PipelineError.invalidArgument("latents have shape \(given.shape), expected \(shape) for \(width)×\(height)")
            }
            try validateLatents(given)
            start = given
        } else {
            start = try Tensor(shape: shape, values: generator.randn(count: shape.reduce(1, *)))
        }
        let latents = try denoise(latents: Autograd.withoutGrad { start * scheduler.initNoiseSigma },
                                  timesteps: scheduler.timesteps, scheduler: &scheduler, context: context,
                                  guidance: request.guidance, generator: &generator, onStep: onStep)
        return GenerationResult(images: try decode(latents: latents), latents: latents, timesteps: scheduler.timesteps,
                                initialLatents: start)
    }
}
