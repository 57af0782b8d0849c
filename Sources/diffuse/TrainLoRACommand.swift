// `diffuse train-lora`: trains LoRA adapters on a few images over a frozen model; writes a diffusers LoRA file.
import ArgumentParser
import Foundation
import NN
import Pipelines
import TensorCore
import Training

extension LoRATrainingOptions.Targets: ExpressibleByArgument {}

struct TrainLoRACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-lora",
        abstract: "Fine-tune a model with LoRA adapters on a few captioned images; writes a .safetensors LoRA that diffusers' load_lora_weights loads.",
        discussion: "--out names the LoRA file; logs, checkpoints and sample grids go in a folder beside it (NAME-training/). "
            + "Other flags as for train; defaults: 400 steps of 4 images at 1e-4, no warm-up, a checkpoint every 100.")

    @OptionGroup var training: TrainingArguments<LoRATrainingOptions>

    /// The model to adapt.
    @OptionGroup var source: ModelSource

    @Option(help: "Rank of each adapter.")
    var rank = 4

    @Option(help: "LoRA alpha: the delta is scaled by alpha/rank (default: the rank, a scale of 1).")
    var alpha: Float?

    @Option(help: "Which models get adapters: U-Net attention (to_q, to_k, to_v, to_out.0), or also the text encoder's (q/k/v/out_proj).")
    var targets = LoRATrainingOptions.Targets.unet

    @Option(help: "One caption for every image (DreamBooth style, e.g. \"a sks icon\"); default: the folder's captions.")
    var caption: String?

    @Option(help: "Write a grid of samples every N steps (0: only at the end).")
    var sampleEvery = LoRATrainingOptions().sampleEvery

    /// `OUT.safetensors` → `OUT-training/`.
    var trainingDirectory: URL {
        let out = URL(fileURLWithPath: training.out)
        let base = out.pathExtension == "safetensors" ? out.deletingPathExtension() : out
        return URL(fileURLWithPath: base.path + "-training")
    }

    func run() throws {
        try reportingTrainingErrors {
            var options = LoRATrainingOptions()
            options.common = training.options
            options.rank = rank
            options.alpha = alpha
            options.targets = targets
            options.caption = caption
            options.sampleEvery = sampleEvery
            try options.validate()  // before the model and data load
            training.announce("train-lora", options.common, extra: " --seed \(options.common.seed) --resolution \(options.common.resolution) "
                + "--rank \(rank) --alpha \(options.effectiveAlpha) --targets \(targets.rawValue) --sample-every \(sampleEvery)",
                recipe: "diffusers' DreamBooth LoRA scale")
            try training.usePrecision()
            // The base model is frozen: under native bf16 its weights are stored in bf16, as for inference.
            let (pipeline, _) = try WeightStorage.building(inBFloat16: ComputePrecision.mode == .bfloat16) { try source.load() }
            let data = try training.loadData()
            let trainer = try LoRATrainer(model: pipeline, data: data, output: URL(fileURLWithPath: training.out),
                                          trainingDirectory: trainingDirectory, options: options)
            if !training.quiet {
                let base = pipeline.unet.parameterCount + pipeline.textEncoder.parameterCount
                FileHandle.standardError.write(Data("training \(trainer.trainableCount) adapter values (\(trainer.adapters.count) matrices); \(base) model weights frozen\n".utf8))
            }
            try trainer.train()
            print("wrote \(training.out)")
        }
    }
}
