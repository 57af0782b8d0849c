// Trains a text encoder and U-Net jointly on latents of a frozen VAE (noise-prediction loss).
import Foundation
import Imaging
import Models
import NN
import Pipelines
import Schedulers
import TensorCore

public struct DiffusionTrainingOptions {
    public var common = TrainingOptions()
    public var unetConfig = DiffusionTrainer.defaultUNetConfig()
    public var textConfig = DiffusionTrainer.defaultTextConfig()
    /// `epsilon` or `v_prediction`.
    public var predictionType = "epsilon"
    /// Min-SNR-γ loss weighting (Hang et al. 2023); nil for plain MSE.
    public var minSNRGamma: Float? = 5
    /// Share of captions replaced by "" so the model also learns the unconditional prediction.
    public var captionDropout = 0.1
    public var emaDecay: Float = 0.999
    /// Keep the text encoder fixed (given with `textEncoderDirectory`).
    public var textEncoderDirectory: URL?
    /// Start from this pipeline folder's U-Net and text encoder (weights and configs)
    /// instead of fresh ones: continued training with a new schedule.
    public var initialModelDirectory: URL?
    /// Images (file names in the data folder) that appear `oversampleFactor` times per epoch
    /// instead of once: rare kinds of image get more training without duplicating files.
    public var oversampledFiles: Set<String> = []
    public var oversampleFactor = 1
    /// Steps between sample grids (0: none).
    public var sampleEvery = 500
    public var samplePrompts: [String] = []
    public var sampleSteps = 20
    public var saveDType: SafetensorsDType = .f32
    public init() {}
}

public final class DiffusionTrainer {
    static let schedulerClassName = "EulerDiscreteScheduler"
    public let options: DiffusionTrainingOptions
    public let output: URL
    let tokenizerDirectory: URL
    let vaeDirectory: URL
    let tokenizer: CLIPTokenizer
    let vae: AutoencoderKL
    public let unet: UNet2DConditionModel
    public let textEncoder: CLIPTextModel
    let trainsTextEncoder: Bool
    let schedule: NoiseSchedule
    let schedulerConfig: [String: ConfigValue]
    let optimizer: AdamW
    let ema: EMA
    let learningRates: LearningRateSchedule
    /// Cached posterior of every image: mean and std, [N, C, h, w] each.
    let latentMeans: Tensor, latentStds: Tensor
    let captionIDs: [[Int]], emptyIDs: [Int]
    let captions: [String]
    var sampler: BatchSampler
    var decisions: UInt64
    public private(set) var step = 0

    /// A small SD-style U-Net for 16×16 latents.
    public static func defaultUNetConfig() -> UNetConfig {
        var config = UNetConfig()
        config.sampleSize = .single(16)
        config.blockOutChannels = [96, 192, 288]
        config.downBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
        config.upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
        config.layersPerBlock = .single(1)
        config.crossAttentionDim = .single(256)
        config.attentionHeadDim = .single(8)
        config.normNumGroups = 32
        return config
    }

    /// A small CLIP text encoder (the CLIP tokenizer's 49408-token vocabulary).
    public static func defaultTextConfig() -> CLIPTextConfig {
        var config = CLIPTextConfig()
        config.hiddenSize = 256
        config.intermediateSize = 1024
        config.numHiddenLayers = 4
        config.numAttentionHeads = 4
        config.maxPositionEmbeddings = 77
        config.hiddenAct = "quick_gelu"
        return config
    }

    /// Per image, its draws per epoch; nil when nothing is oversampled.
    static func repeatCounts(_ data: CaptionedImageFolder, options: DiffusionTrainingOptions) throws -> [Int]? {
        guard !options.oversampledFiles.isEmpty else { return nil }
        guard options.oversampleFactor >= 1 else {
            throw DatasetError.invalid("--oversample-factor must be at least 1, got \(options.oversampleFactor)")
        }
        let missing = options.oversampledFiles.subtracting(data.items.map(\.file)).sorted()
        if let first = missing.first {
            throw DatasetError.invalid("--oversample lists \(first), which is not an image of the data folder "
                                       + "(\(missing.count) such names)")
        }
        return data.items.map { options.oversampledFiles.contains($0.file) ? options.oversampleFactor : 1 }
    }

    public init(data: CaptionedImageFolder, vaeDirectory: URL, tokenizerDirectory: URL, output: URL,
                options: DiffusionTrainingOptions) throws {
        try options.common.validate()
        guard !options.common.horizontalFlip else {
            // Latents are encoded once, unflipped; flipping them would need a second cache.
            throw DatasetError.invalid("--flip is supported by train-vae only (train caches the VAE latents once)")
        }
        guard ["epsilon", "v_prediction"].contains(options.predictionType) else {
            throw DatasetError.invalid("--prediction must be epsilon or v_prediction, got \(options.predictionType)")
        }
        self.options = options
        self.output = output
        self.vaeDirectory = vaeDirectory
        self.tokenizerDirectory = tokenizerDirectory
        tokenizer = try CLIPTokenizer(directory: tokenizerDirectory)
        vae = try AutoencoderKL.load(directory: vaeDirectory)
        let initial = options.initialModelDirectory
        if let directory = options.textEncoderDirectory {
            textEncoder = try CLIPTextModel.load(directory: directory)
            trainsTextEncoder = false
        } else if let initial {
            textEncoder = try CLIPTextModel.load(directory: initial.appendingPathComponent("text_encoder"))
            trainsTextEncoder = true
        } else {
            textEncoder = try CLIPTextModel(config: options.textConfig, seed: options.common.seed &+ 2)
            trainsTextEncoder = true
        }
        if let initial {
            unet = try UNet2DConditionModel.load(directory: initial.appendingPathComponent("unet"))
            try Self.checkCompatible(unet.config, latentChannels: vae.config.latentChannels,
                                     contextWidth: textEncoder.config.hiddenSize, folder: initial)
        } else {
            var unetConfig = options.unetConfig
            unetConfig.inChannels = vae.config.latentChannels
            unetConfig.outChannels = vae.config.latentChannels
            unetConfig.crossAttentionDim = .single(textEncoder.config.hiddenSize)
            unetConfig.sampleSize = .single(data.resolution / vae.downsamplingFactor)
            unet = try UNet2DConditionModel(config: unetConfig, seed: options.common.seed &+ 1)
        }

        // The sampler every trained pipeline ships with: Euler on Karras sigmas, which at 10
        // steps beat DPM-Solver++ 2M at 15 on models/emoji's fidelity (README, quality).
        schedulerConfig = [
            "_class_name": .string(Self.schedulerClassName), "_diffusers_version": .string("0.39.0"),
            "num_train_timesteps": .number(1000), "beta_start": .number(0.00085), "beta_end": .number(0.012),
            "beta_schedule": .string("scaled_linear"), "prediction_type": .string(options.predictionType),
            "timestep_spacing": .string("leading"), "steps_offset": .number(1), "set_alpha_to_one": .bool(false),
            "skip_prk_steps": .bool(true), "clip_sample": .bool(false), "use_karras_sigmas": .bool(true),
            "trained_betas": .null,
        ]
        schedule = try NoiseSchedule(config: Self.schedulerConfig(schedulerConfig), scheduler: "DDPMScheduler")

        // Cache the frozen VAE's posterior for every image once.
        (latentMeans, latentStds) = try Self.encodeAll(data, vae: vae, quiet: options.common.quiet)
        captions = data.items.map(\.caption)
        let tokenLength = textEncoder.config.maxPositionEmbeddings
        let tokenizer = self.tokenizer
        captionIDs = captions.map { tokenizer.inputIDs($0, maxLength: tokenLength).ids }
        emptyIDs = tokenizer.inputIDs("", maxLength: tokenLength).ids
        sampler = BatchSampler(count: data.count, seed: options.common.seed,
                               repeats: try Self.repeatCounts(data, options: options))
        decisions = options.common.seed &+ 3

        let trainable = trainableParameters(unet: unet, textEncoder: textEncoder, includeText: trainsTextEncoder)
        optimizer = AdamW(parameters: trainable, learningRate: options.common.learningRate, weightDecay: options.common.weightDecay)
        ema = EMA(parameters: trainable, decay: options.emaDecay)
        learningRates = LearningRateSchedule(peak: options.common.learningRate, warmupSteps: options.common.warmupSteps,
                                             totalSteps: options.common.steps)
        try FileManager.default.createDirectory(at: trainingDirectory, withIntermediateDirectories: true)
    }

    var trainingDirectory: URL { output.appendingPathComponent("training") }

    /// A U-Net to continue training must take the VAE's latents and the text encoder's width.
    static func checkCompatible(_ config: UNetConfig, latentChannels: Int, contextWidth: Int, folder: URL) throws {
        guard config.inChannels == latentChannels, config.outChannels == latentChannels else {
            throw DatasetError.invalid("\(folder.path)/unet takes \(config.inChannels) latent channels, the VAE makes \(latentChannels)")
        }
        guard config.crossAttentionDim == .single(contextWidth) else {
            throw DatasetError.invalid("\(folder.path)/unet cross-attends to width \(config.crossAttentionDim), the text encoder gives \(contextWidth)")
        }
    }

    static func schedulerConfig(_ entries: [String: ConfigValue]) throws -> SchedulerConfig {
        try SchedulerConfig.decode(JSONEncoder().encode(entries), path: "<trainer scheduler config>")
    }
    var checkpointURL: URL { trainingDirectory.appendingPathComponent(Checkpoint.fileName) }

    static func encodeAll(_ data: CaptionedImageFolder, vae: AutoencoderKL, quiet: Bool) throws -> (Tensor, Tensor) {
        var means: [Tensor] = [], stds: [Tensor] = []
        let progress = ProgressBar(total: data.count, label: "encode latents", enabled: !quiet)
        try Autograd.withoutGrad {
            for start in stride(from: 0, to: data.count, by: 64) {
                let indices = Array(start..<min(start + 64, data.count))
                let (mean, logvar) = try vae.encode(data.batch(indices, flip: []))
                means.append(mean)
                stds.append((logvar * 0.5).exp())
                progress.update(start + indices.count)
            }
        }
        return (Tensor.concat(means, axis: 0), Tensor.concat(stds, axis: 0))
    }

    /// Rows `indices` of a cached [N, ...] tensor.
    static func rows(_ tensor: Tensor, _ indices: [Int]) -> Tensor {
        let size = tensor.count / tensor.shape[0]
        let result = Tensor(uninitializedShape: [indices.count] + Array(tensor.shape.dropFirst()))
        for (b, i) in indices.enumerated() { (result.pointer + b * size).update(from: tensor.pointer + i * size, count: size) }
        return result
    }

    /// One micro-batch's loss: noise scaled latents at random timesteps, predict, weighted MSE.
    func loss(indices: [Int], generator: inout TorchGenerator) throws -> Tensor {
        let mean = Self.rows(latentMeans, indices), std = Self.rows(latentStds, indices)
        let posteriorNoise = try Tensor(shape: mean.shape, values: generator.randn(count: mean.count))
        let z0 = (mean + std * posteriorNoise) * Float(vae.config.scalingFactor)
        let noise = try Tensor(shape: z0.shape, values: generator.randn(count: z0.count))
        let timesteps = indices.map { _ in Int(SplitMix64.next(&decisions) % UInt64(schedule.alphasCumprod.count)) }
        let alphaBar = timesteps.map { schedule.alphasCumprod[$0] }
        let signal = try Tensor(shape: [indices.count, 1, 1, 1], values: alphaBar.map { $0.squareRoot() })
        let sigma = try Tensor(shape: [indices.count, 1, 1, 1], values: alphaBar.map { (1 - $0).squareRoot() })
        let noisy = z0 * signal + noise * sigma
        let ids = indices.flatMap { SplitMix64.unit(&decisions) < options.captionDropout ? emptyIDs : captionIDs[$0] }
        let context = textEncoder(ids: ids, batch: indices.count).lastHidden
        let prediction = unet(noisy, timesteps: timesteps.map(Float.init), context: context)
        let target = options.predictionType == "epsilon" ? noise : noise * signal - z0 * sigma
        // Min-SNR-γ: weight each sample by min(SNR, γ)/SNR (ε) or min(SNR, γ)/(SNR + 1) (v).
        let weights = alphaBar.map { a -> Float in
            guard let gamma = options.minSNRGamma else { return 1 }
            let snr = a / max(1 - a, 1e-8)
            return min(snr, gamma) / (options.predictionType == "epsilon" ? snr : snr + 1)
        }
        let perSample = (prediction - target).square().mean(axes: [1, 2, 3])
        return (perSample * (try Tensor(shape: [indices.count], values: weights))).mean()
    }

    public func train() throws {
        let common = options.common
        let log = try TrainingLog(directory: trainingDirectory, name: "diffusion", columns: ["step", "loss", "lr", "seconds"],
                                  resuming: common.resume)
        var generator = TorchGenerator(seed: common.seed)
        if common.resume, FileManager.default.fileExists(atPath: checkpointURL.path) {
            generator = try restore()
            say("resumed from step \(step)", quiet: common.quiet)
        }
        let progress = ProgressBar(total: common.steps, label: "train", enabled: !common.quiet)
        let trainable = trainableParameters(unet: unet, textEncoder: textEncoder, includeText: trainsTextEncoder)
        let start = Date(timeIntervalSinceNow: -log.loggedSeconds(atStep: step))
        let lastStep = min(common.steps, common.stopAfter ?? common.steps)
        while step < lastStep {
            optimizer.learningRate = learningRates.rate(at: step)
            var total: Float = 0
            for _ in 0..<common.gradientAccumulation {
                let loss = try self.loss(indices: sampler.next(common.batchSize), generator: &generator)
                (loss / Float(common.gradientAccumulation)).backward()
                total += loss.item / Float(common.gradientAccumulation)
            }
            guard total.isFinite else { throw DatasetError.invalid("training diverged at step \(step) (loss \(total)); lower --lr") }
            optimizer.update(gradientScale: clippingScale(norm: gradientNorm(trainable), maxNorm: common.maxGradientNorm))
            unet.zeroGrad()
            textEncoder.zeroGrad()
            step += 1
            ema.update(trainable, step: step)
            try log.record(step: step, loss: Double(total),
                           extra: [String(format: "%.3g", optimizer.learningRate), String(format: "%.1f", Date().timeIntervalSince(start))])
            progress.update(step, extra: String(format: "loss %.4f", total))
            if step % common.logEvery == 0 || step == common.steps { try log.drawCurve(title: "diffusion loss") }
            if step % common.checkpointEvery == 0 || step == lastStep { try saveCheckpoint(generator: generator) }
            if options.sampleEvery > 0, step % options.sampleEvery == 0 || step == lastStep {
                try writeSampleGrid(to: trainingDirectory.appendingPathComponent(String(format: "samples-%06d.png", step)))
            }
        }
        // Also when stopping early (--stop-after): the folder always holds the latest EMA model.
        try savePipeline()
    }

    func saveCheckpoint(generator: TorchGenerator) throws {
        var checkpoint = Checkpoint()
        checkpoint.add(section: "unet", unet.namedParameters())
        if trainsTextEncoder { checkpoint.add(section: "text_encoder", textEncoder.namedParameters()) }
        checkpoint.add(section: "ema", ema.shadow)
        checkpoint.add(section: "adam", optimizer.stateTensors())
        checkpoint.metadata["step"] = "\(step)"
        checkpoint.metadata["decisions"] = "\(decisions)"
        try checkpoint.setJSON("generator", generator.state)
        try checkpoint.setJSON("sampler", sampler)
        try checkpoint.write(to: checkpointURL)
    }

    func restore() throws -> TorchGenerator {
        let checkpoint = try Checkpoint.read(from: checkpointURL)
        try checkpoint.restore(section: "unet", into: unet.namedParameters(), file: checkpointURL.path)
        if trainsTextEncoder {
            try checkpoint.restore(section: "text_encoder", into: textEncoder.namedParameters(), file: checkpointURL.path)
        }
        ema.load(checkpoint.section("ema"))
        optimizer.load(stateTensors: checkpoint.section("adam"))
        step = try checkpoint.integer("step")
        decisions = UInt64(checkpoint.metadata["decisions"] ?? "") ?? decisions
        let restored = try checkpoint.json("sampler", as: BatchSampler.self)
        guard restored.count == sampler.count, restored.repeats == sampler.repeats else {
            throw DatasetError.invalid("\(checkpointURL.path) was trained on \(restored.count) images with "
                                       + "\(restored.repeats == nil ? "no" : "other") oversampling; resume with the same "
                                       + "--data, --oversample and --oversample-factor")
        }
        sampler = restored
        return try TorchGenerator(state: checkpoint.json("generator", as: TorchGenerator.State.self))
    }

    /// Fresh copies of the U-Net and text encoder holding the EMA weights.
    func emaModels() throws -> (UNet2DConditionModel, CLIPTextModel) {
        let unetCopy = try UNet2DConditionModel(config: unet.config)
        let textCopy = trainsTextEncoder ? try CLIPTextModel(config: textEncoder.config) : textEncoder
        let current = Dictionary(uniqueKeysWithValues: unet.namedParameters().map { ($0.key, $0.parameter.value) })
        for (key, parameter) in unetCopy.namedParameters() {
            if let value = ema.shadow["unet." + key] ?? current[key] { try parameter.assign(value) }
        }
        if trainsTextEncoder {
            for (key, parameter) in textCopy.namedParameters() {
                if let shadow = ema.shadow["text_encoder." + key] { try parameter.assign(shadow) }
            }
        }
        return (unetCopy, textCopy)
    }

    /// A grid of samples from the EMA weights, one per sample prompt, seed 0.
    public func writeSampleGrid(to url: URL) throws {
        // By default, 16 captions spread over the dataset (not the first 16, which are often alike).
        let stride = max(1, captions.count / 16)
        let prompts = options.samplePrompts.isEmpty
            ? Swift.stride(from: 0, to: captions.count, by: stride).prefix(16).map { captions[$0] } : options.samplePrompts
        let (unetCopy, textCopy) = try emaModels()
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
    public func savePipeline() throws {
        let (unetCopy, textCopy) = try emaModels()
        let folder = try StableDiffusionPipelineFolder.create(
            at: output, modelIndex: .stableDiffusion(schedulerClassName: Self.schedulerClassName))
        try unetCopy.save(directory: folder.componentDirectoryForWriting("unet"), dtype: options.saveDType)
        try folder.save(textEncoder: textCopy, dtype: options.saveDType)
        try folder.copyComponentFiles("vae", from: vaeDirectory)
        try folder.copyComponentFiles("tokenizer", from: tokenizerDirectory)
        try folder.saveSchedulerConfig(schedulerConfig)
    }
}

/// The parameters the optimiser updates, keyed `unet.…` and `text_encoder.…`.
func trainableParameters(unet: UNet2DConditionModel, textEncoder: CLIPTextModel, includeText: Bool) -> [(key: String, parameter: Parameter)] {
    unet.namedParameters(prefix: "unet.") + (includeText ? textEncoder.namedParameters(prefix: "text_encoder.") : [])
}
