// `diffuse train-vae`: trains an AutoencoderKL on a folder of images.
import ArgumentParser
import Foundation
import Models
import Pipelines
import TensorCore
import Training

struct TrainVAECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-vae",
        abstract: "Train a VAE (AutoencoderKL) on a folder of images; writes a diffusers vae folder.")

    @OptionGroup var training: TrainingArguments<VAETrainingOptions>

    @Option(help: "AutoencoderKL config.json to train (default: a small 2×-down VAE).")
    var config: String?

    @Option(help: "Continue training this VAE folder (its config and weights; a fresh schedule and optimiser).")
    var initFrom: String?

    @Option(help: "Reconstruction loss.")
    var loss = ReconstructionLoss.l1

    @Option(help: "Weight of the KL term (per latent element, relative to the per-pixel loss).")
    var klWeight: Float = 1e-6

    func run() throws {
        try training.runOnRanks(train)
    }

    /// Every rank trains its share; rank 0 alone announces, saves and reports.
    private func train(_ training: TrainingArguments<VAETrainingOptions>, _ parallel: DataParallelRun) throws {
        var options = VAETrainingOptions()
        options.common = training.options
        options.reconstructionLoss = loss
        options.klWeight = klWeight
        if let config { options.config = try AutoencoderKLConfig.read(from: URL(fileURLWithPath: config)) }
        if let initFrom {
            guard config == nil else { throw ValidationError("--init-from takes the config of its folder; drop --config") }
            options.initialModelDirectory = URL(fileURLWithPath: initFrom)
        }
        try options.validate()  // before the data loads
        training.announce("train-vae", options.common)
        let data = try parallel.loadData { try training.loadData() }
        let out = URL(fileURLWithPath: training.out)
        let trainer = try VAETrainer(data: data, output: out, options: options)
        trainer.allReduce = parallel.allReduce
        try trainer.train()
        parallel.report(quiet: training.quiet)
        guard parallel.writes, trainer.step == options.common.steps else { return }
        let factor = try trainer.save(to: out)
        let psnr = try trainer.reconstructionPSNR()
        let summary = String(format: "scaling_factor %.5f; held-out PSNR %.2f dB mean, %.2f dB 10th percentile (%d images)",
                             factor, psnr.mean, psnr.p10, psnr.count)
        try (summary + "\n").write(to: out.appendingPathComponent("training/vae-summary.txt"), atomically: true, encoding: .utf8)
        print(summary)
    }
}
