// Inpainting with an inpainting U-Net (SD's 9-channel models: latents, mask and the masked
// image's latents stacked on channels), as diffusers' StableDiffusionInpaintPipeline runs one at
// strength 1; the original pixels outside the mask are then kept, as the blending path keeps them.
import Foundation
import Schedulers
import TensorCore

extension StableDiffusion {
    /// Whether the U-Net takes the mask and the masked image's latents beside the latents.
    public var isInpaintingModel: Bool { unet.config.inChannels == 2 * latentChannels + 1 }

    func inpaintWithMaskChannels(_ request: InpaintRequest, warn: (String) -> Void,
                                 onStep: (DenoisingStep) throws -> Void) throws -> GenerationResult {
        let (height, width) = (request.image.shape[2], request.image.shape[3])
        let (h, w) = (height / vaeScaleFactor, width / vaeScaleFactor)
        // diffusers binarises the mask at 0.5; the masked image is the image where the mask keeps it.
        let binary = request.mask.map { $0 >= 0.5 ? Float(1) : 0 }
        let keep = try Tensor(shape: [1, 1, height, width], values: binary.map { 1 - $0 })
        let maskedImage = Autograd.withoutGrad { request.image * keep }                   // [1, 3, H, W]
        let latentMask = try Tensor(shape: [1, 1, h, w], values: Self.nearest(binary, width: width, height: height, to: w, h))

        var (context, scheduler) = try sampling(request, warn: warn)
        let timesteps = scheduler.timesteps
        // diffusers' order of draws: the initial latents, then the masked image's posterior sample.
        var generator = TorchGenerator(seed: request.seed)
        let shape = [1, latentChannels, h, w]
        let start = try Tensor(shape: shape, values: generator.randn(count: shape.reduce(1, *)))
        let maskedLatents = try encodeSample(images: maskedImage, generator: &generator)  // [1, C, h, w]
        let conditioning = Tensor.concat([latentMask, maskedLatents], axis: 1)            // [1, 1 + C, h, w]
        let latents = try denoise(latents: Autograd.withoutGrad { start * scheduler.initNoiseSigma },
                                  timesteps: timesteps, scheduler: &scheduler, context: context,
                                  guidance: request.guidance, generator: &generator, conditioning: conditioning,
                                  onStep: onStep)
        let decoded = try decode(latents: latents)
        let pixelMask = try Tensor(shape: [1, 1, height, width], values: request.mask)
        let images = Autograd.withoutGrad { Self.blend(decoded, request.image, mask: pixelMask) }
        return GenerationResult(images: images, latents: latents, timesteps: timesteps, initialLatents: start)
    }

    /// diffusers' mask downscale, `F.interpolate(mask, size=(h, w))` (nearest): latent pixel (y, x)
    /// takes image pixel (⌊y·H/h⌋, ⌊x·W/w⌋).
    static func nearest(_ mask: [Float], width: Int, height: Int, to w: Int, _ h: Int) -> [Float] {
        var result = [Float](repeating: 0, count: h * w)
        for y in 0..<h { for x in 0..<w { result[y * w + x] = mask[(y * height / h) * width + x * width / w] } }
        return result
    }
}
