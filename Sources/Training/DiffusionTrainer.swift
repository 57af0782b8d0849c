// Trains a text encoder and U-Net jointly on latents of a frozen VAE (noise-prediction loss).
import Foundation
import Imaging
import Models
import NN
import Pipelines
import Schedulers
import TensorCore

public final class DiffusionTrainer: TrainingObjective {
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
    /// Cached posterior of every image: mean and std, [N, C, h, w] each.
    let latentMeans: Tensor, latentStds: Tensor
    let captionIDs: [[Int]], emptyIDs: [Int]
    let captions: [String]
    /// Draws per epoch of each image (nil: once each).
    let repeats: [Int]?
    /// Optimiser steps done.
    public private(set) var step = 0
    /// Where gradients meet across ranks (data-parallel training); nil for one process.
    public var allReduce: GradientAllReduce?

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
        let missing = options.oversampledFiles.subtracting(data.items.map(\.file)).sorted()
        if let first = missing.first {
            throw TrainingError.invalidOption(field: "DiffusionTrainingOptions.oversampledFiles",
                                              problem: "lists \(first), which is not an image of the data folder (\(missing.count) such names)")
        }
        return data.items.map { options.oversampledFiles.contains($0.file) ? options.oversampleFactor : 1 }
    }

    public init(data: CaptionedImageFolder, vaeDirectory: URL, tokenizerDirectory: URL, output: URL,
                options: DiffusionTrainingOptions) throws {
        try options.validate()
        repeats = try Self.repeatCounts(data, options: options)
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
        try textEncoder.checkTokenizer(tokenizer, location: tokenizerDirectory.path)
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
        // steps beat DPM-Solver++ 2M at 15 on models/emoji32's fidelity (README, quality).
        schedulerConfig = [
            "_class_name": .string(Self.schedulerClassName), "_diffusers_version": .string(ConfigFile.diffusersVersion),
            "num_train_timesteps": .number(1000), "beta_start": .number(0.00085), "beta_end": .number(0.012),
            "beta_schedule": .string("scaled_linear"), "prediction_type": .string(options.predictionType.rawValue),
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
    }

    var trainingDirectory: URL { output.appendingPathComponent("training") }

    // MARK: TrainingObjective

    public var name: String { "diffusion" }
    public var trainableParameters: [(key: String, parameter: Parameter)] {
        Training.trainableParameters(unet: unet, textEncoder: textEncoder, includeText: trainsTextEncoder)
    }
    public var checkpointSections: [(name: String, parameters: [(key: String, parameter: Parameter)])] {
        [("unet", unet.namedParameters())] + (trainsTextEncoder ? [("text_encoder", textEncoder.namedParameters())] : [])
    }
    public var emaDecay: Float? { options.emaDecay }

    /// The loss (prediction target, weighting), the noise schedule and the data drawn.
    public var resumeSettings: [String: String] {
        // The prediction type has its own entry, so a change to it is reported under its name.
        let ladder = schedulerConfig.filter { $0.key != "prediction_type" }
        let scheduler = (try? JSONEncoder.sorted.encode(ladder)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        let files = options.oversampledFiles.sorted().joined(separator: "\n")
        let digest = SHA256.hash(Array(files.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
        var settings = [
            "DiffusionTrainingOptions.predictionType": options.predictionType.rawValue,
            "DiffusionTrainingOptions.minSNRGamma": options.minSNRGamma.map { "\($0)" } ?? "none",
            "DiffusionTrainer.scheduler": scheduler,
            "DiffusionTrainer.trainsTextEncoder": "\(trainsTextEncoder)",
            "DiffusionTrainingOptions.oversampledFiles": options.oversampledFiles.isEmpty
                ? "none" : "\(options.oversampledFiles.count) files (sha256 \(digest)…) \(options.oversampleFactor)× per epoch",
        ]
        // Only when used, so checkpoints written before the option still resume.
        if options.partialCaptions > 0 { settings["DiffusionTrainingOptions.partialCaptions"] = "\(options.partialCaptions)" }
        return settings
    }

    public func makeSampler(seed: UInt64) -> BatchSampler { BatchSampler(count: captions.count, seed: seed, repeats: repeats) }
    public func decisionSeed(seed: UInt64) -> UInt64 { seed &+ 3 }

    /// A frozen text encoder's gradients are cleared too (they are computed, never used).
    public func zeroGradients() {
        unet.zeroGrad()
        textEncoder.zeroGrad()
    }

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
    public func loss(batch indices: [Int], step: Int, randomness: inout TrainingRandomness) throws -> MicroBatchLoss {
        try loss(batch: indices, shard: indices.indices, step: step, randomness: &randomness)
    }

    /// Every draw for the whole batch (posterior noise, noise, timesteps, caption dropout,
    /// partial captions, in that order), then the loss of the examples of `shard`.
    public func loss(batch indices: [Int], shard: Range<Int>, step: Int, randomness: inout TrainingRandomness) throws -> MicroBatchLoss {
        let mean = Self.rows(latentMeans, indices), std = Self.rows(latentStds, indices)  // [B, C, h, w]
        let posteriorNoise = try randomness.randn(mean.shape)
        let allNoise = try randomness.randn(mean.shape)
        let allTimesteps = indices.map { _ in Int(randomness.next() % UInt64(schedule.alphasCumprod.count)) }
        let dropped = indices.map { _ in randomness.unit() < options.captionDropout }
        let shortened = options.partialCaptions > 0
            ? indices.map { Self.partialCaption(captions[$0], share: options.partialCaptions, randomness: &randomness) } : nil
        let rows = { (tensor: Tensor) in BatchShard.rows(tensor, shard) }
        let z0 = (rows(mean) + rows(std) * rows(posteriorNoise)) * Float(vae.config.scalingFactor)  // [b, C, h, w]
        let noise = rows(allNoise)
        let timesteps = Array(allTimesteps[shard])
        let alphaBar = timesteps.map { schedule.alphasCumprod[$0] }
        let alphaProd = try Tensor(shape: [shard.count, 1, 1, 1], values: alphaBar)  // [b, 1, 1, 1]
        let noisy = z0 * alphaProd.sqrt() + noise * (1 - alphaProd).sqrt()
        let tokenLength = textEncoder.config.maxPositionEmbeddings
        let ids = shard.flatMap { row -> [Int] in
            if dropped[row] { return emptyIDs }
            if let words = shortened?[row] { return tokenizer.inputIDs(words, maxLength: tokenLength).ids }
            return captionIDs[indices[row]]
        }
        let context = textEncoder(ids: ids, batch: shard.count).lastHidden
        let prediction = unet(noisy, timesteps: timesteps.map(Float.init), context: context)
        let target = options.predictionType.target(original: z0, noise: noise, alphaProd: alphaProd)
        // Min-SNR-γ: weight each sample by min(SNR, γ)/SNR (ε) or min(SNR, γ)/(SNR + 1) (v).
        let weights = alphaBar.map { a -> Float in
            guard let gamma = options.minSNRGamma else { return 1 }
            let snr = a / max(1 - a, 1e-8)
            return min(snr, gamma) / (options.predictionType == .epsilon ? snr : snr + 1)
        }
        let perSample = (prediction - target).square().mean(axes: [1, 2, 3])  // [b]
        return MicroBatchLoss(loss: (perSample * (try Tensor(shape: [shard.count], values: weights))).mean())
    }

    /// With probability `share`, a random non-empty subset of the caption's words (each kept
    /// with probability 1/2, in order); nil for the whole caption. A one-word caption draws
    /// once and stays whole.
    public static func partialCaption(_ caption: String, share: Double, randomness: inout TrainingRandomness) -> String? {
        guard randomness.unit() < share else { return nil }
        let words = caption.split(separator: " ")
        guard words.count > 1 else { return nil }
        var kept = words.filter { _ in randomness.unit() < 0.5 }
        if kept.isEmpty { kept = [words[Int(randomness.next() % UInt64(words.count))]] }
        return kept.joined(separator: " ")
    }

    /// Trains (or resumes) to `steps` or `stopAfter`, then writes the pipeline folder (EMA weights).
    public func train() throws {
        let loop = try TrainingLoop(objective: self, options: options.common, directory: trainingDirectory)
        loop.allReduce = allReduce
        defer { step = loop.step }
        try loop.run()
    }
}

/// The parameters the optimiser updates, keyed `unet.…` and `text_encoder.…`.
func trainableParameters(unet: UNet2DConditionModel, textEncoder: CLIPTextModel, includeText: Bool) -> [(key: String, parameter: Parameter)] {
    unet.namedParameters(prefix: "unet.") + (includeText ? textEncoder.namedParameters(prefix: "text_encoder.") : [])
}
