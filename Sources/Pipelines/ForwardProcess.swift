// The forward process: a clean image noised to step t, in latent or pixel space.
import Foundation
import Models
import Schedulers
import TensorCore

public enum NoiseSpace: String, CaseIterable {
    case latent, pixel
}

public struct NoisedImage {
    public let timestep: Int
    /// √ᾱ_t: how much of the clean signal is left.
    public let signalScale: Float
    /// The noised image decoded to pixels, [1, 3, H, W] in [-1, 1].
    public let image: Tensor
    /// z_t in latent space (nil in pixel space).
    public let latents: Tensor?
}

extension StableDiffusion {
    /// The model's training schedule (DDPM betas from the folder's scheduler config).
    public func trainingSchedule() throws -> NoiseSchedule {
        try NoiseSchedule(config: schedulerConfig, scheduler: "DDPMScheduler")
    }

    /// x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε for each of `timesteps`, with ε drawn once from `seed`
    /// (the same noise at every t, so a ladder shows one trajectory). t = 0 is the clean
    /// input itself (ᾱ = 1); t ≥ 1 uses diffusers' `alphas_cumprod[t]`, as `add_noise` does.
    public func noise(image: Tensor, timesteps: [Int], space: NoiseSpace, seed: UInt64) throws -> [NoisedImage] {
        let schedule = try trainingSchedule()
        for t in timesteps where t < 0 || t >= schedule.alphasCumprod.count {
            throw PipelineError.invalidField("timestep", reason: "\(t) is outside 0...\(schedule.alphasCumprod.count - 1)")
        }
        try validateImages(image)
        var generator = TorchGenerator(seed: seed)
        let clean = space == .latent ? try encodeMean(images: image) : image
        let epsilon = try Tensor(shape: clean.shape, values: generator.randn(count: clean.count))
        return try timesteps.map { t in
            let a: Float = t == 0 ? 1 : schedule.alphasCumprod[t]
            let noisy = Autograd.withoutGrad { clean * a.squareRoot() + epsilon * (1 - a).squareRoot() }
            let pixels = space == .latent ? try decode(latents: noisy) : noisy
            return NoisedImage(timestep: t, signalScale: a.squareRoot(), image: pixels, latents: space == .latent ? noisy : nil)
        }
    }

    /// The reverse process from step `t` to a clean image: `latents` are taken as z_t and DDIM
    /// (deterministic) walks `steps` evenly spaced timesteps from t down to 0. At t = 0 the
    /// latents are already clean (see `noise`) and are only decoded.
    public func denoise(latents: Tensor, from t: Int, steps: Int, prompt: String, guidance: Float,
                        seed: UInt64 = 0, onStep: (DenoisingStep) throws -> Void = { _ in }) throws -> GenerationResult {
        let schedule = try trainingSchedule()
        guard t >= 0, t < schedule.alphasCumprod.count else {
            throw PipelineError.invalidField("timestep", reason: "\(t) is outside 0...\(schedule.alphasCumprod.count - 1)")
        }
        guard steps >= 1 else { throw PipelineError.invalidField("steps", reason: "must be at least 1, got \(steps)") }
        try validateLatents(latents)
        try SamplingDefaults.validateGuidance(guidance)
        guard t > 0 else { return GenerationResult(images: try decode(latents: latents), latents: latents, timesteps: []) }
        let count = min(steps, t)
        var list: [Double] = []
        for i in 0..<count {
            let value = (Double(t) * Double(count - i) / Double(count)).rounded()
            if list.last != value { list.append(value) }
        }
        var ddim = try DDIMScheduler(config: schedulerConfig)
        try ddim.setTimesteps(descending: list)
        var scheduler: Scheduler = ddim
        let guided = guidance > 1 && !prompt.isEmpty
        let context = try encodePrompt(prompt, negativePrompt: "", count: latents.shape[0], guided: guided)
        var generator = TorchGenerator(seed: seed)
        let clean = try denoise(latents: latents, timesteps: list, scheduler: &scheduler, context: context,
                                guidance: guidance, generator: &generator, onStep: onStep)
        return GenerationResult(images: try decode(latents: clean), latents: clean, timesteps: list)
    }
}
