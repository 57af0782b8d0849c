// Trains an AutoencoderKL on a folder of images: reconstruction (L1 or L2) + KL loss.
import Foundation
import Imaging
import Models
import NN
import Pipelines
import TensorCore

public final class VAETrainer: TrainingObjective {
    public let options: VAETrainingOptions
    public let data: CaptionedImageFolder
    public let output: URL
    public let vae: AutoencoderKL
    let trainIndices: [Int], heldOutIndices: [Int]
    /// Optimiser steps done.
    public private(set) var step = 0
    /// Where gradients meet across ranks (data-parallel training); nil for one process.
    public var allReduce: GradientAllReduce?

    /// A small AutoencoderKL for small images: 2× down (32 px → 16×16×4 latents).
    public static func defaultConfig() -> AutoencoderKLConfig {
        var config = AutoencoderKLConfig()
        config.blockOutChannels = [64, 128]
        config.downBlockTypes = ["DownEncoderBlock2D", "DownEncoderBlock2D"]
        config.upBlockTypes = ["UpDecoderBlock2D", "UpDecoderBlock2D"]
        config.layersPerBlock = 1
        config.latentChannels = 4
        config.normNumGroups = 32
        config.scalingFactor = 1
        return config
    }

    public init(data: CaptionedImageFolder, output: URL, options: VAETrainingOptions) throws {
        try options.validate()
        self.options = options
        self.data = data
        self.output = output
        var config = try options.initialModelDirectory.map { try AutoencoderKL.loadConfig(directory: $0) } ?? options.config
        config.sampleSize = data.resolution
        if let initial = options.initialModelDirectory {
            config.scalingFactor = 1  // calibrated again when saved
            try config.validate()
            vae = try AutoencoderKL(config: config, seed: nil)
            try ComponentFiles.loadWeights(into: vae, from: initial, ignoring: AutoencoderKL.ignoredWeightKeys)
        } else {
            vae = try AutoencoderKL(config: config, seed: options.common.seed)
        }
        // A fixed, seeded hold-out slice for PSNR; training never sees it.
        let order = BatchSampler.permutation(count: data.count, seed: options.common.seed ^ 0x484F4C44, epoch: 0)
        let heldOut = data.count >= 20 ? max(1, Int(Double(data.count) * options.holdoutFraction)) : 0
        heldOutIndices = Array(order.prefix(heldOut))
        trainIndices = Array(order.dropFirst(heldOut))
    }

    /// Trains (or resumes) to `steps` or `stopAfter`, with logs and checkpoints in `OUT/training`.
    public func train() throws {
        let loop = try TrainingLoop(objective: self, options: options.common, directory: output.appendingPathComponent("training"))
        loop.allReduce = allReduce
        defer { step = loop.step }
        try loop.run()
    }

    // MARK: TrainingObjective

    public var name: String { "vae" }
    public var trainableParameters: [(key: String, parameter: Parameter)] { vae.namedParameters() }
    public var checkpointSections: [(name: String, parameters: [(key: String, parameter: Parameter)])] {
        [("model", vae.namedParameters())]
    }
    public var metricNames: [String] { ["reconstruction"] }
    public var resumeSettings: [String: String] {
        ["VAETrainingOptions.reconstructionLoss": options.reconstructionLoss.rawValue,
         "VAETrainingOptions.klWeight": "\(options.klWeight)",
         "VAETrainingOptions.holdoutFraction": "\(options.holdoutFraction)"]
    }

    public func makeSampler(seed: UInt64) -> BatchSampler { BatchSampler(count: trainIndices.count, seed: seed) }

    public func zeroGradients() { vae.zeroGrad() }

    /// Draws the images of `batch` (flipped when asked) and a posterior sample's noise.
    public func loss(batch: [Int], step: Int, randomness: inout TrainingRandomness) throws -> MicroBatchLoss {
        try loss(batch: batch, shard: batch.indices, step: step, randomness: &randomness)
    }

    /// The flips and noise of the whole batch, then the loss of the images of `shard`.
    public func loss(batch: [Int], shard: Range<Int>, step: Int, randomness: inout TrainingRandomness) throws -> MicroBatchLoss {
        let indices = batch.map { trainIndices[$0] }
        let flips = indices.map { _ in options.common.horizontalFlip && randomness.next() & 1 == 1 }
        let side = data.resolution / vae.downsamplingFactor
        let noise = try randomness.randn([indices.count, vae.config.latentChannels, side, side])  // [B, 4, h, w]
        let images = try data.batch(Array(indices[shard]), flip: Array(flips[shard]))  // [b, 3, R, R]
        let (total, reconstruction) = loss(images, noise: BatchShard.rows(noise, shard))
        return MicroBatchLoss(loss: total, metrics: [reconstruction])
    }

    /// Loss for one batch [B, 3, R, R]: reconstruction of a posterior sample plus weighted KL.
    func loss(_ images: Tensor, noise: Tensor) -> (total: Tensor, reconstruction: Float) {
        let (mean, logvar) = vae.encode(images)
        let z = vae.sample(mean: mean, logvar: logvar, noise: noise)
        let reconstruction = vae.decode(z)
        let recLoss: Tensor
        switch options.reconstructionLoss {
        case .l1: recLoss = reconstruction.l1Loss(images)
        case .l2: recLoss = reconstruction.mseLoss(images)
        }
        let kl = AutoencoderKL.klDivergence(mean: mean, logvar: logvar).mean() / Float(mean.count / mean.shape[0])
        return (recLoss + kl * options.klWeight, recLoss.item)
    }

    /// Mean posterior latents over the data → scaling_factor = 1/std, as SD's VAE was calibrated.
    public func calibrateScalingFactor() throws -> Double {
        var sum = 0.0, sumSquares = 0.0, count = 0.0
        try Autograd.withoutGrad {
            for start in stride(from: 0, to: data.count, by: 64) {
                let indices = Array(start..<min(start + 64, data.count))
                let mean = try vae.encode(data.batch(indices, flip: [])).mean
                for v in mean.values { sum += Double(v); sumSquares += Double(v) * Double(v); count += 1 }
            }
        }
        let variance = sumSquares / count - (sum / count) * (sum / count)
        return 1 / max(variance, 1e-12).squareRoot()
    }

    /// PSNR (8-bit RGB) of mean-latent reconstructions: mean and 10th percentile, over `indices`.
    public func reconstructionPSNR(indices: [Int]? = nil) throws -> (mean: Double, p10: Double, count: Int) {
        let chosen = indices ?? (heldOutIndices.isEmpty ? Array(0..<data.count) : heldOutIndices)
        var scores: [Double] = []
        try Autograd.withoutGrad {
            for start in stride(from: 0, to: chosen.count, by: 64) {
                let batchIndices = Array(chosen[start..<min(start + 64, chosen.count)])
                let images = try data.batch(batchIndices, flip: [])
                let decoded = vae.decode(vae.encode(images).mean)
                for (original, reconstructed) in zip(try images.images(), try decoded.images()) {
                    scores.append(PSNR.rgb8(original, reconstructed))
                }
            }
        }
        let sorted = scores.sorted()
        return (scores.reduce(0, +) / Double(max(scores.count, 1)), sorted.isEmpty ? 0 : sorted[sorted.count / 10], scores.count)
    }

    /// Writes the trained VAE as a diffusers `vae/` component with its calibrated scaling factor.
    public func save(to directory: URL, dtype: SafetensorsDType = .f32) throws -> Double {
        let factor = try calibrateScalingFactor()
        var config = vae.config
        config.scalingFactor = factor
        let calibrated = try AutoencoderKL(config: config)
        for ((_, target), (_, source)) in zip(calibrated.namedParameters(), vae.namedParameters()) { try target.assign(source.value) }
        try calibrated.save(directory: directory, dtype: dtype)
        return factor
    }
}

public enum PSNR {
    /// Peak signal-to-noise ratio of two 8-bit RGB images of one size, in dB (capped at 100).
    public static func rgb8(_ a: Image, _ b: Image) -> Double {
        var squared = 0.0
        for i in 0..<min(a.pixels.count, b.pixels.count) {
            let d = Double(a.pixels[i]) - Double(b.pixels[i])
            squared += d * d
        }
        let mse = squared / Double(max(1, a.pixels.count))
        return mse == 0 ? 100 : 10 * Foundation.log10(255 * 255 / mse)
    }
}
