// Trains an AutoencoderKL on a folder of images: reconstruction (L1 or L2) + KL loss.
import Foundation
import Imaging
import Models
import NN
import Pipelines
import TensorCore

public struct VAETrainingOptions {
    public var common = TrainingOptions()
    public var config = VAETrainer.defaultConfig()
    public var reconstructionLoss = "l1"
    public var klWeight: Float = 1e-6
    /// Share of the images held out to measure reconstruction PSNR.
    public var holdoutFraction = 0.05
    public init() {}
}

public final class VAETrainer {
    public let options: VAETrainingOptions
    public let data: CaptionedImageFolder
    public let output: URL
    public let vae: AutoencoderKL
    let optimizer: AdamW
    let schedule: LearningRateSchedule
    var sampler: BatchSampler
    var flipState: UInt64
    public private(set) var step = 0
    let trainIndices: [Int], heldOutIndices: [Int]

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
        try options.common.validate()
        guard ["l1", "l2"].contains(options.reconstructionLoss) else {
            throw DatasetError.invalid("--loss must be l1 or l2, got \(options.reconstructionLoss)")
        }
        self.options = options
        self.data = data
        self.output = output
        var config = options.config
        config.sampleSize = data.resolution
        vae = try AutoencoderKL(config: config, seed: options.common.seed)
        // A fixed, seeded hold-out slice for PSNR; training never sees it.
        let order = BatchSampler.permutation(count: data.count, seed: options.common.seed ^ 0x484F4C44, epoch: 0)
        let heldOut = data.count >= 20 ? max(1, Int(Double(data.count) * options.holdoutFraction)) : 0
        heldOutIndices = Array(order.prefix(heldOut))
        trainIndices = Array(order.dropFirst(heldOut))
        sampler = BatchSampler(count: trainIndices.count, seed: options.common.seed)
        flipState = options.common.seed &+ 1
        optimizer = AdamW(parameters: vae.namedParameters(), learningRate: options.common.learningRate,
                          weightDecay: options.common.weightDecay)
        schedule = LearningRateSchedule(peak: options.common.learningRate, warmupSteps: options.common.warmupSteps,
                                        totalSteps: options.common.steps)
        try FileManager.default.createDirectory(at: trainingDirectory, withIntermediateDirectories: true)
    }

    /// Logs, curves and the checkpoint live beside the model, in `OUT/training/`.
    var trainingDirectory: URL { output.appendingPathComponent("training") }
    var checkpointURL: URL { trainingDirectory.appendingPathComponent(Checkpoint.fileName) }

    /// Loss for one batch [B, 3, R, R]: reconstruction of a posterior sample plus weighted KL.
    func loss(_ images: Tensor, noise: Tensor) throws -> (total: Tensor, reconstruction: Float) {
        let (mean, logvar) = vae.encode(images)
        let z = vae.sample(mean: mean, logvar: logvar, noise: noise)
        let reconstruction = vae.decode(z)
        let recLoss = options.reconstructionLoss == "l1" ? reconstruction.l1Loss(images) : reconstruction.mseLoss(images)
        let kl = AutoencoderKL.klDivergence(mean: mean, logvar: logvar).mean() / Float(mean.count / mean.shape[0])
        return (recLoss + kl * options.klWeight, recLoss.item)
    }

    public func train() throws {
        let common = options.common
        let log = try TrainingLog(directory: trainingDirectory, name: "vae", columns: ["step", "loss", "reconstruction", "lr", "seconds"],
                                  resuming: common.resume)
        var generator = TorchGenerator(seed: common.seed)
        if common.resume, FileManager.default.fileExists(atPath: checkpointURL.path) {
            generator = try restore()
            say("resumed from step \(step)", quiet: common.quiet)
        }
        let progress = ProgressBar(total: common.steps, label: "train-vae", enabled: !common.quiet)
        let parameters = vae.namedParameters()
        let start = Date(timeIntervalSinceNow: -log.loggedSeconds(atStep: step))
        let lastStep = min(common.steps, common.stopAfter ?? common.steps)
        while step < lastStep {
            optimizer.learningRate = schedule.rate(at: step)
            var totalLoss: Float = 0, totalReconstruction: Float = 0
            for _ in 0..<common.gradientAccumulation {
                let indices = sampler.next(common.batchSize).map { trainIndices[$0] }
                let flips = indices.map { _ in common.horizontalFlip && SplitMix64.next(&flipState) & 1 == 1 }
                let images = try data.batch(indices, flip: flips)
                let latentShape = [indices.count, vae.config.latentChannels, data.resolution / vae.downsamplingFactor,
                                   data.resolution / vae.downsamplingFactor]
                let noise = try Tensor(shape: latentShape, values: generator.randn(count: latentShape.reduce(1, *)))
                let (loss, reconstruction) = try self.loss(images, noise: noise)
                (loss / Float(common.gradientAccumulation)).backward()
                totalLoss += loss.item / Float(common.gradientAccumulation)
                totalReconstruction += reconstruction / Float(common.gradientAccumulation)
            }
            guard totalLoss.isFinite else { throw DatasetError.invalid("training diverged at step \(step) (loss \(totalLoss)); lower --lr") }
            optimizer.update(gradientScale: clippingScale(norm: gradientNorm(parameters), maxNorm: common.maxGradientNorm))
            vae.zeroGrad()
            step += 1
            try log.record(step: step, loss: Double(totalLoss),
                           extra: [String(format: "%.6f", totalReconstruction), String(format: "%.3g", optimizer.learningRate),
                                   String(format: "%.1f", Date().timeIntervalSince(start))])
            progress.update(step, extra: String(format: "loss %.4f", totalLoss))
            if step % common.logEvery == 0 || step == common.steps { try log.drawCurve(title: "VAE loss") }
            if step % common.checkpointEvery == 0 || step == lastStep { try saveCheckpoint(generator: generator) }
        }
    }

    func saveCheckpoint(generator: TorchGenerator) throws {
        var checkpoint = Checkpoint()
        checkpoint.add(section: "model", vae.namedParameters())
        checkpoint.add(section: "adam", optimizer.stateTensors())
        checkpoint.metadata["step"] = "\(step)"
        checkpoint.metadata["flip_state"] = "\(flipState)"
        try checkpoint.setJSON("generator", generator.state)
        try checkpoint.setJSON("sampler", sampler)
        try checkpoint.write(to: checkpointURL)
    }

    func restore() throws -> TorchGenerator {
        let checkpoint = try Checkpoint.read(from: checkpointURL)
        try checkpoint.restore(section: "model", into: vae.namedParameters(), file: checkpointURL.path)
        optimizer.load(stateTensors: checkpoint.section("adam"))
        step = try checkpoint.integer("step")
        flipState = UInt64(checkpoint.metadata["flip_state"] ?? "") ?? flipState
        sampler = try checkpoint.json("sampler", as: BatchSampler.self)
        return try TorchGenerator(state: checkpoint.json("generator", as: TorchGenerator.State.self))
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
