// What diffusion training writes besides checkpoints: sample grids and the pipeline folder,
// both from the EMA weights.
import Foundation
import Imaging
import Models
import NN
import Pipelines
import TensorCore

extension DiffusionTrainer {
    // MARK: TrainingObjective hooks

    /// A sample grid every `sampleEvery` steps and at the run's last step.
    public func didStep(_ step: Int, loop: TrainingLoop) throws {
        guard loop.writes, options.sampleEvery > 0, step % options.sampleEvery == 0 || step == loop.lastStep else { return }
        try writeSampleGrid(to: trainingDirectory.appendingPathComponent(String(format: "samples-%06d.png", step)), ema: loop.ema)
    }

    /// Also when stopping early (`stopAfter`): the folder always holds the latest EMA model.
    public func didFinish(loop: TrainingLoop) throws {
        guard loop.writes else { return }
        try savePipeline(ema: loop.ema)
    }

    // MARK: Outputs

    /// Fresh copies of the U-Net and text encoder holding the EMA weights (the current
    /// weights where there is no average).
    func emaModels(_ ema: EMA?) throws -> (UNet2DConditionModel, CLIPTextModel) {
        let unetCopy = try UNet2DConditionModel(config: unet.config)
        let textCopy = trainsTextEncoder ? try CLIPTextModel(config: textEncoder.config) : textEncoder
        for ((key, parameter), (_, source)) in zip(unetCopy.namedParameters(), unet.namedParameters()) {
            try parameter.assign(ema?.shadow["unet." + key] ?? source.value)
        }
        if trainsTextEncoder {
            for ((key, parameter), (_, source)) in zip(textCopy.namedParameters(), textEncoder.namedParameters()) {
                try parameter.assign(ema?.shadow["text_encoder." + key] ?? source.value)
            }
        }
        return (unetCopy, textCopy)
    }

    /// A grid of samples from the EMA weights, one per sample prompt, seed 0.
    public func writeSampleGrid(to url: URL, ema: EMA?) throws {
        // By default, 16 captions spread over the dataset (not the first 16, which are often alike).
        let stride = max(1, captions.count / 16)
        let prompts = options.samplePrompts.isEmpty
            ? Swift.stride(from: 0, to: captions.count, by: stride).prefix(16).map { captions[$0] } : options.samplePrompts
        let (unetCopy, textCopy) = try emaModels(ema)
        let model = StableDiffusion(directory: output, tokenizer: tokenizer, textEncoder: textCopy, unet: unetCopy, vae: vae,
                                    schedulerConfig: try Self.schedulerConfig(schedulerConfig))
        var images: [Image] = []
        for prompt in prompts {
            var request = GenerationRequest(prompt: prompt)
            request.steps = options.sampleSteps
            let image = try model.generate(request).images.image()
            images.append(try image.resized(width: 64, height: 64).labelled(String(prompt.prefix(10)), bandHeight: 10))
        }
        try Image.grid(images, columns: 8, padding: 2).writePNG(to: url)
    }

    /// Writes the complete diffusers pipeline folder (EMA weights) into `output`.
    public func savePipeline(ema: EMA?) throws {
        let (unetCopy, textCopy) = try emaModels(ema)
        let folder = try StableDiffusionPipelineFolder.create(
            at: output, modelIndex: .stableDiffusion(schedulerClassName: Self.schedulerClassName))
        try unetCopy.save(directory: folder.componentDirectoryForWriting("unet"), dtype: options.saveDType)
        try folder.save(textEncoder: textCopy, dtype: options.saveDType)
        try folder.copyComponentFiles("vae", from: vaeDirectory)
        try folder.copyComponentFiles("tokenizer", from: tokenizerDirectory)
        try folder.saveSchedulerConfig(schedulerConfig)
    }
}
