// The reverse-diffusion loop shared by every flow: guided U-Net prediction, then a scheduler step.
import Foundation
import Models
import Schedulers
import TensorCore

/// What each step of the loop reports (for progress bars and trajectory views).
public struct DenoisingStep {
    public let index: Int
    public let count: Int
    public let timestep: Double
    /// Latents after this step, [N, C, h, w].
    public let latents: Tensor
    /// The scheduler's estimate of the clean latents, when it gives one.
    public let predictedOriginal: Tensor?
}

extension StableDiffusion {
    /// Runs `scheduler` over `timesteps` from `latents` ([N, C, h, w]) with context [B, 77, D]
    /// (B = 2N when guiding: negatives first). Noise a step needs comes from `generator`;
    /// `afterStep` may rewrite each step's result (inpainting blends the known region there).
    /// `conditioning` [N, E, h, w]: channels appended to the scaled latents at every step (an
    /// inpainting U-Net's mask and masked-image latents).
    public func denoise(latents initial: Tensor, timesteps: [Double], scheduler: inout Scheduler, context: Tensor,
                        guidance: Float, generator: inout TorchGenerator, conditioning: Tensor? = nil,
                        afterStep: ((_ index: Int, _ sample: Tensor) throws -> Tensor)? = nil,
                        onStep: (DenoisingStep) throws -> Void = { _ in }) throws -> Tensor {
        // Every flow passes here: nothing unchecked reaches the U-Net.
        try SamplingDefaults.validateGuidance(guidance)
        try validateLatents(initial)
        // The U-Net's weights stay fixed over the loop: its convolutions reorder them once.
        return try FrozenWeights.during {
            try denoiseSteps(latents: initial, timesteps: timesteps, scheduler: &scheduler, context: context,
                             guidance: guidance, generator: &generator, conditioning: conditioning,
                             afterStep: afterStep, onStep: onStep)
        }
    }

    private func denoiseSteps(latents initial: Tensor, timesteps: [Double], scheduler: inout Scheduler, context: Tensor,
                              guidance: Float, generator: inout TorchGenerator, conditioning: Tensor?,
                              afterStep: ((_ index: Int, _ sample: Tensor) throws -> Tensor)?,
                              onStep: (DenoisingStep) throws -> Void) throws -> Tensor {
        let guided = context.shape[0] == 2 * initial.shape[0]
        let prediction = schedulerConfig.predictionType
        let alphasCumprod = try trainingSchedule().alphasCumprod
        var sample = initial  // [N, C, h, w]
        // Steps that inject noise draw it from the pipeline's generator, as diffusers does.
        let box = GeneratorBox(generator)
        let noiseSource = NoiseSource { shape in try Tensor(shape: shape, values: box.generator.randn(count: shape.reduce(1, *))) }
        defer { generator = box.generator }
        for (index, t) in timesteps.enumerated() {
            let modelInput = try scheduler.scaleModelInput(sample, timestep: t)
            let unetInput = conditioning.map { Tensor.concat([modelInput, $0], axis: 1) } ?? modelInput  // [N, C + E, h, w]
            let batchInput = guided ? Tensor.concat([unetInput, unetInput], axis: 0) : unetInput  // [B, C + E, h, w]
            let output = try Autograd.withoutGrad {
                try unet.forward(batchInput, timesteps: [Float(t)], context: context)
            }
            var guidedOutput = output
            if guided {
                let halves = output.chunk(2, axis: 0)
                guidedOutput = Autograd.withoutGrad { halves[0] + (halves[1] - halves[0]) * guidance }
            }
            let result = try Autograd.withoutGrad {
                try scheduler.step(modelOutput: guidedOutput, timestep: t, sample: sample, noise: noiseSource)
            }
            sample = try afterStep?(index, result.prevSample) ?? result.prevSample
            // Schedulers that report no x̂₀ (PNDM) get it from the folder's prediction type.
            let original = result.predOriginalSample ?? estimateOriginal(prediction, modelInput: modelInput,
                                                                         modelOutput: guidedOutput, timestep: t,
                                                                         alphasCumprod: alphasCumprod)
            try onStep(DenoisingStep(index: index, count: timesteps.count, timestep: t, latents: sample, predictedOriginal: original))
        }
        return sample
    }

    /// x̂₀ from a model output at integer training timestep t; nil off the training range.
    func estimateOriginal(_ prediction: PredictionType, modelInput x: Tensor, modelOutput: Tensor, timestep t: Double,
                          alphasCumprod: [Float]) -> Tensor? {
        let index = Int(t.rounded())
        guard alphasCumprod.indices.contains(index) else { return nil }
        return Autograd.withoutGrad {
            prediction.original(modelOutput: modelOutput, sample: x, level: NoiseLevel(alphaProd: alphasCumprod[index]))
        }
    }

    /// Latents → images in [-1, 1] (unclamped), undoing the VAE's latent scaling.
    public func decode(latents: Tensor) throws -> Tensor {
        try validateLatents(latents)
        return Autograd.withoutGrad { vae.decode(vae.unscaleLatents(latents)) }
    }

    /// Images in [-1, 1] ([N, 3, H, W]) → scaled latents at the posterior mean (deterministic).
    public func encodeMean(images: Tensor) throws -> Tensor {
        try validateImages(images)
        return Autograd.withoutGrad { vae.scaleLatents(vae.encode(images).mean) }
    }

    /// Images in [-1, 1] → scaled latents sampled from the posterior with noise drawn from
    /// `generator`, as diffusers' `latent_dist.sample(generator)` does.
    public func encodeSample(images: Tensor, generator: inout TorchGenerator) throws -> Tensor {
        try validateImages(images)
        let (mean, logvar) = Autograd.withoutGrad { vae.encode(images) }
        let noise = try Tensor(shape: mean.shape, values: generator.randn(count: mean.count))
        return Autograd.withoutGrad { vae.scaleLatents(vae.sample(mean: mean, logvar: logvar, noise: noise)) }
    }

    /// Images in [-1, 1] → scaled latents sampled from the posterior with the given noise
    /// (the posterior's shape, [N, C, h, w]).
    public func encodeSample(images: Tensor, noise: Tensor) throws -> Tensor {
        try validateImages(images)
        let (mean, logvar) = Autograd.withoutGrad { vae.encode(images) }
        guard noise.shape == mean.shape else {
            throw PipelineError.invalidArgument("posterior noise has shape \(noise.shape), expected \(mean.shape)")
        }
        return Autograd.withoutGrad { vae.scaleLatents(vae.sample(mean: mean, logvar: logvar, noise: noise)) }
    }
}

extension Tensor {
    /// Images in [-1, 1] [N, 3, H, W] → [N, H, W, 3] in [0, 1], as diffusers' `output_type="np"`.
    public func imagesToUnitNHWC() -> Tensor {
        Autograd.withoutGrad { ((self * 0.5 + 0.5).clamped(0, 1)).permuted([0, 2, 3, 1]) }
    }
}

/// Lets an escaping noise closure draw from a generator that the loop owns.
private final class GeneratorBox {
    var generator: TorchGenerator
    init(_ generator: TorchGenerator) { self.generator = generator }
}
