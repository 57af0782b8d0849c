// Trains LoRA adapters on a frozen pipeline (U-Net, optionally the text encoder) from a few
// captioned images, with the noise-prediction loss; writes diffusers' `save_lora_weights` file.
import Foundation
import Models
import NN
import Pipelines
import Schedulers
import TensorCore

public final class LoRATrainer: TrainingObjective {
    /// The projections PEFT's usual SD recipe adapts.
    public static let unetLayers = ["to_q", "to_k", "to_v", "to_out.0"]
    public static let textLayers = ["q_proj", "k_proj", "v_proj", "out_proj"]

    public let options: LoRATrainingOptions
    public let model: StableDiffusion
    /// The `.safetensors` file written at the end; logs and checkpoints go in `trainingDirectory`.
    public let output: URL
    public let trainingDirectory: URL
    let schedule: NoiseSchedule
    let latentMeans: Tensor, latentStds: Tensor   // [N, C, h, w] each
    let captions: [String]
    let captionIDs: [[Int]], emptyIDs: [Int]
    /// The adapters, keyed `unet.<module>.lora_A.weight` … as diffusers saves them.
    public let adapters: [(key: String, parameter: Parameter)]

    public init(model: StableDiffusion, data: CaptionedImageFolder, output: URL, trainingDirectory: URL,
                options: LoRATrainingOptions) throws {
        try options.validate()
        guard data.count > 0 else { throw DatasetError.invalid("\(data.directory.path) holds no usable images") }
        try model.validateSize(width: data.resolution, height: data.resolution)
        self.options = options
        self.model = model
        self.output = output
        self.trainingDirectory = trainingDirectory
        schedule = try NoiseSchedule(config: model.schedulerConfig, scheduler: "DDPMScheduler")

        // Frozen base, fresh adapters: the same seed gives the same initial A matrices.
        var initializer = Initializer(seed: options.common.seed &+ 5)
        var adapters = model.unet.attachLoRA(layers: Self.unetLayers, rank: options.rank, alpha: options.effectiveAlpha,
                                             initializer: &initializer).map { (key: "unet." + $0.key, parameter: $0.parameter) }
        let textAdapters = model.textEncoder.attachLoRA(layers: options.targets == .unetAndText ? Self.textLayers : [],
                                                        rank: options.rank, alpha: options.effectiveAlpha, initializer: &initializer)
        adapters += textAdapters.map { (key: "text_encoder." + $0.key, parameter: $0.parameter) }
        guard !adapters.isEmpty else {
            throw DatasetError.invalid("the model has no \(Self.unetLayers.joined(separator: "/")) layers to adapt")
        }
        self.adapters = adapters

        (latentMeans, latentStds) = try DiffusionTrainer.encodeAll(data, vae: model.vae, quiet: options.common.quiet)
        captions = data.items.map { options.caption ?? $0.caption }
        let length = model.textEncoder.config.maxPositionEmbeddings
        let tokenizer = model.tokenizer
        captionIDs = captions.map { tokenizer.inputIDs($0, maxLength: length).ids }
        emptyIDs = tokenizer.inputIDs("", maxLength: length).ids
    }

    /// The number of values the optimiser updates (the adapters only).
    public var trainableCount: Int { adapters.reduce(0) { $0 + $1.parameter.value.count } }

    // MARK: TrainingObjective

    public var name: String { "lora" }
    public var trainableParameters: [(key: String, parameter: Parameter)] { adapters }
    public var checkpointSections: [(name: String, parameters: [(key: String, parameter: Parameter)])] { [("lora", adapters)] }
    public var resumeSettings: [String: String] {
        ["LoRATrainingOptions.rank": "\(options.rank)", "LoRATrainingOptions.alpha": "\(options.effectiveAlpha)",
         "LoRATrainingOptions.targets": options.targets.rawValue,
         "LoRATrainingOptions.caption": options.caption ?? "the folder's captions"]
    }

    public func makeSampler(seed: UInt64) -> BatchSampler { BatchSampler(count: captions.count, seed: seed, repeats: nil) }
    public func decisionSeed(seed: UInt64) -> UInt64 { seed &+ 6 }

    /// Noise the cached latents at random timesteps and regress the model's target (plain MSE,
    /// as diffusers' LoRA scripts); the base weights only pass gradients through.
    public func loss(batch indices: [Int], step: Int, randomness: inout TrainingRandomness) throws -> MicroBatchLoss {
        let mean = DiffusionTrainer.rows(latentMeans, indices), std = DiffusionTrainer.rows(latentStds, indices)  // [B, C, h, w]
        let z0 = (mean + std * (try randomness.randn(mean.shape))) * Float(model.vae.config.scalingFactor)
        let noise = try randomness.randn(z0.shape)
        let timesteps = indices.map { _ in Int(randomness.next() % UInt64(schedule.alphasCumprod.count)) }
        let alphaProd = try Tensor(shape: [indices.count, 1, 1, 1], values: timesteps.map { schedule.alphasCumprod[$0] })
        let noisy = z0 * alphaProd.sqrt() + noise * (1 - alphaProd).sqrt()
        let ids = indices.flatMap { randomness.unit() < options.captionDropout ? emptyIDs : captionIDs[$0] }
        let encode = { self.model.textEncoder(ids: ids, batch: indices.count).lastHidden }   // [B, 77, D]
        let context = options.targets == .unetAndText ? encode() : Autograd.withoutGrad(encode)
        let prediction = model.unet(noisy, timesteps: timesteps.map(Float.init), context: context)
        let target = model.schedulerConfig.predictionType.target(original: z0, noise: noise, alphaProd: alphaProd)
        return MicroBatchLoss(loss: (prediction - target).square().mean())
    }

    public func didStep(_ step: Int, loop: TrainingLoop) throws {
        guard options.sampleEvery > 0, step % options.sampleEvery == 0, step != loop.lastStep else { return }
        try writeSampleGrid(to: trainingDirectory.appendingPathComponent(String(format: "samples-%06d.png", step)))
    }

    public func didFinish(loop: TrainingLoop) throws {
        try save(to: output)
        try writeSampleGrid(to: trainingDirectory.appendingPathComponent(String(format: "samples-%06d.png", loop.step)))
    }

    /// Trains (or resumes) to `steps` or `stopAfter`, then writes the LoRA file.
    public func train() throws {
        let loop = try TrainingLoop(objective: self, options: options.common, directory: trainingDirectory)
        try loop.run()
    }
}
