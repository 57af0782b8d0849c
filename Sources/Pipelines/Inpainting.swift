// Inpainting with any model by mask blending (RePaint-style): after every step the known
// region is replaced by the original latents noised to the step's level. An inpainting U-Net
// (9 input channels) is given the mask and the masked image instead (Inpainting+MaskChannels).
import Foundation
import Imaging
import Schedulers
import TensorCore

public struct InpaintRequest {
    public var prompt: String
    /// The image, [1, 3, H, W] in [-1, 1].
    public var image: Tensor
    /// Where to repaint: 1 (white) repaints, 0 keeps; [H·W] in [0, 1].
    public var mask: [Float]
    public var negativePrompt = ""
    public var steps = SamplingDefaults.steps
    public var guidance = SamplingDefaults.guidance
    public var scheduler: String?
    public var seed: UInt64 = 0

    public init(prompt: String, image: Tensor, mask: [Float]) {
        self.prompt = prompt
        self.image = image
        self.mask = mask
    }
}

extension StableDiffusion {
    public func inpaint(_ request: InpaintRequest, warn: (String) -> Void = { _ in },
                        onStep: (DenoisingStep) throws -> Void = { _ in }) throws -> GenerationResult {
        let (height, width) = (request.image.shape[2], request.image.shape[3])
        try validateSize(width: width, height: height)
        guard request.mask.count == height * width else {
            throw PipelineError.invalidArgument("the mask must be \(width)×\(height) like the image")
        }
        if isInpaintingModel { return try inpaintWithMaskChannels(request, warn: warn, onStep: onStep) }
        let known = try encodeMean(images: request.image)                        // [1, C, h, w]
        let (h, w) = (known.shape[2], known.shape[3])
        let latentMask = try Tensor(shape: [1, 1, h, w],
                                    values: Self.areaAverage(request.mask, width: width, height: height, to: w, h))
        let pixelMask = try Tensor(shape: [1, 1, height, width], values: request.mask)

        var (context, scheduler) = try sampling(request, warn: warn)
        let timesteps = scheduler.timesteps
        var generator = TorchGenerator(seed: request.seed)
        let start = try Tensor(shape: known.shape, values: generator.randn(count: known.count))
        let knownNoise = try Tensor(shape: known.shape, values: generator.randn(count: known.count))
        let blender = scheduler
        let latents = try denoise(latents: Autograd.withoutGrad { start * scheduler.initNoiseSigma }, timesteps: timesteps,
                                  scheduler: &scheduler, context: context, guidance: request.guidance, generator: &generator,
                                  afterStep: { index, sample in
            // The known region at the noise level the next step expects (clean after the last).
            let level = index + 1 < timesteps.count
                ? try blender.addNoise(original: known, noise: knownNoise, timestep: timesteps[index + 1]) : known
            return Autograd.withoutGrad { Self.blend(sample, level, mask: latentMask) }
        }, onStep: onStep)
        // Decode, then keep the original pixels outside the mask exactly.
        let decoded = try decode(latents: latents)
        let images = Autograd.withoutGrad { Self.blend(decoded, request.image, mask: pixelMask) }
        return GenerationResult(images: images, latents: latents, timesteps: timesteps)
    }

    /// Where both inpainting paths start: the prompt's context (with the negative prompt's when
    /// guided) and the sampler set to the request's steps.
    func sampling(_ request: InpaintRequest, warn: (String) -> Void) throws -> (context: Tensor, scheduler: Scheduler) {
        let context = try encodePrompt(request.prompt, negativePrompt: request.negativePrompt, count: 1,
                                       guided: request.guidance > 1, warn: warn)
        var scheduler = try makeScheduler(named: request.scheduler)
        try scheduler.setTimesteps(request.steps)
        return (context, scheduler)
    }

    /// mask·inside + (1 − mask)·outside; the mask [1, 1, H, W] broadcasts over [N, C, H, W].
    static func blend(_ inside: Tensor, _ outside: Tensor, mask: Tensor) -> Tensor {
        inside * mask + outside * (1 - mask)
    }

    /// Averages a [H·W] mask down to [h·w] (H, W multiples of h, w).
    static func areaAverage(_ mask: [Float], width: Int, height: Int, to w: Int, _ h: Int) -> [Float] {
        let (fy, fx) = (height / h, width / w)
        var result = [Float](repeating: 0, count: h * w)
        for y in 0..<height { for x in 0..<width { result[(y / fy) * w + x / fx] += mask[y * width + x] } }
        return result.map { $0 / Float(fy * fx) }
    }
}
