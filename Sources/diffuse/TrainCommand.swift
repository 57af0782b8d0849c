// `diffuse train`: trains the text encoder and U-Net on latents of a frozen VAE.
import ArgumentParser
import Foundation
import Models
import TensorCore
import Training

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a text-conditioned U-Net (and text encoder) on captioned images; writes a diffusers pipeline folder.")

    @OptionGroup var training: TrainingArguments<DiffusionTrainingOptions>

    @Option(help: "The trained VAE folder (from train-vae) or a pipeline folder with vae/.")
    var vae: String

    @Option(help: "CLIP tokenizer folder (default: models/clip-tokenizer).")
    var tokenizer: String?

    @Option(help: "Keep this pretrained text encoder fixed instead of training one.")
    var textEncoder: String?

    @Option(help: "Continue training this pipeline folder's U-Net and text encoder (a fresh schedule and optimiser).")
    var initFrom: String?

    @Option(help: "UNet2DConditionModel config.json (default: a small 3-level U-Net).")
    var unetConfig: String?

    @Option(help: "CLIPTextModel config.json (default: 4 layers, width 256).")
    var textConfig: String?

    @Option(help: "What the U-Net predicts.")
    var prediction = PredictionOption.epsilon

    @Option(help: "Min-SNR-γ loss weighting (0 disables).")
    var minSnrGamma: Float = 5

    @Option(help: "Share of captions dropped for classifier-free guidance.")
    var captionDropout = 0.1

    @Option(help: ArgumentHelp("Share of captions cut to a random subset of their words, so new combinations of the words vary across seeds.",
                               valueName: "share"))
    var partialCaptions = 0.0

    @Option(help: "EMA decay of the saved weights.")
    var emaDecay: Float = 0.999

    @Option(help: ArgumentHelp("Oversample the images this file names (one per line, or the first column of a captions TSV).",
                               valueName: "file"))
    var oversample: String?

    @Option(help: "Times per epoch each --oversample image is drawn.")
    var oversampleFactor = 3

    @Option(help: "Write a grid of samples every N steps (0: never).")
    var sampleEvery = DiffusionTrainingOptions().sampleEvery

    @Flag(help: "Save the model weights in float16.")
    var fp16 = false

    func run() throws {
        try training.runOnRanks(train)
    }

    /// Every rank trains its share; rank 0 alone announces and writes.
    private func train(_ training: TrainingArguments<DiffusionTrainingOptions>, _ parallel: DataParallelRun) throws {
        var options = DiffusionTrainingOptions()
        options.common = training.options
        options.predictionType = prediction.predictionType
        options.minSNRGamma = minSnrGamma > 0 ? minSnrGamma : nil
        options.captionDropout = captionDropout
        options.partialCaptions = partialCaptions
        options.emaDecay = emaDecay
        options.sampleEvery = sampleEvery
        options.saveDType = fp16 ? .f16 : .f32
        if let oversample {
            options.oversampledFiles = try Self.fileNames(listedIn: oversample)
            options.oversampleFactor = oversampleFactor
        }
        options.textEncoderDirectory = textEncoder.map { URL(fileURLWithPath: $0) }
        options.initialModelDirectory = initFrom.map { URL(fileURLWithPath: $0) }
        if initFrom != nil, unetConfig != nil || textConfig != nil {
            throw ValidationError("--init-from takes the configs of its folder; drop --unet-config and --text-config")
        }
            if let unetConfig { options.unetConfig = try UNetConfig.read(from: URL(fileURLWithPath: unetConfig)) }
            if let textConfig { options.textConfig = try CLIPTextConfig.read(from: URL(fileURLWithPath: textConfig)) }
        var vaeURL = URL(fileURLWithPath: vae)
        if FileManager.default.fileExists(atPath: vaeURL.appendingPathComponent("vae/config.json").path) {
            vaeURL = vaeURL.appendingPathComponent("vae")
        }
        let tokenizerURL = try tokenizer.map { URL(fileURLWithPath: $0) } ?? ModelLocator.resolveResource("models/clip-tokenizer")
        try options.validate()  // before the data loads
        training.announce("train", options.common, extra: " --sample-every \(options.sampleEvery)")
        let data = try parallel.loadData { try training.loadData() }
        let trainer = try DiffusionTrainer(data: data, vaeDirectory: vaeURL, tokenizerDirectory: tokenizerURL,
                                           output: URL(fileURLWithPath: training.out), options: options)
        trainer.allReduce = parallel.allReduce
        try trainer.train()
        parallel.report(quiet: training.quiet)
        if parallel.writes { print("wrote \(training.out)") }
    }

    /// Image file names, one per line or in the first tab-separated column; a `file` header
    /// line and blank lines are skipped.
    static func fileNames(listedIn path: String) throws -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read --oversample file \(path)")
        }
        let names = text.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let name = line.split(separator: "\t", maxSplits: 1).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            return name.isEmpty || name == "file" ? nil : name
        }
        guard !names.isEmpty else { throw ValidationError("--oversample file \(path) names no images") }
        return Set(names)
    }
}
