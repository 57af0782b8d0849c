// Flags shared by `train-vae`, `train` and `train-lora`; their defaults are the trainer's recipe.
import ArgumentParser
import Foundation
import TensorCore
import Training

/// A trainer's options: its recipe (`common`) gives the training flags' defaults.
protocol TrainerOptions {
    init()
    var common: TrainingOptions { get set }
}

extension VAETrainingOptions: TrainerOptions {}
extension DiffusionTrainingOptions: TrainerOptions {}
extension LoRATrainingOptions: TrainerOptions {}

struct TrainingArguments<Trainer: TrainerOptions>: ParsableArguments {
    /// The values this command trains with where no flag says otherwise.
    private static var recipe: TrainingOptions { Trainer().common }

    @OptionGroup var dataset: DatasetOption

    @Option(help: "Output folder (the model; logs and checkpoints go in its training/ subfolder).")
    var out: String

    @Option(help: "Optimiser steps.")
    var steps = Self.recipe.steps

    @Option(help: "Images per step.")
    var batchSize = Self.recipe.batchSize

    @Option(help: "Image side in pixels (images are resized and centre-cropped).")
    var resolution = Self.recipe.resolution

    @Option(help: "Seed for weights, data order and noise.")
    var seed = Self.recipe.seed

    @Option(help: "Peak learning rate (AdamW; linear warm-up, then cosine decay).")
    var lr = Self.recipe.learningRate

    @Option(help: "Warm-up steps.")
    var warmup = Self.recipe.warmupSteps

    @Option(help: "Micro-batches per optimiser step (gradient accumulation).")
    var gradientAccumulation = Self.recipe.gradientAccumulation

    @Option(help: "Write a checkpoint every N steps.")
    var checkpointEvery = Self.recipe.checkpointEvery

    @Option(help: "Stop (with a checkpoint) after this many steps, keeping the --steps schedule; continue later with --resume.")
    var stopAfter: Int?

    @Flag(help: "Continue from the output folder's last checkpoint.")
    var resume = false

    @Flag(help: "Randomly flip images horizontally.")
    var flip = false

    @Option(help: "Threads to use (default: all cores).")
    var threads: Int?

    @Option(help: "Precision of the products (GEMMs, convolutions, attention), forward and backward: bf16 is mixed-precision training (bfloat16 inputs, float32 accumulation, float32 weights and optimiser state) on CPUs with AVX-512 BF16 or AMX, and float32 elsewhere.")
    var precision = ComputePrecision.float32

    @Flag(help: "No progress output.")
    var quiet = false

    /// The recipe with every flag applied.
    var options: TrainingOptions {
        var options = Self.recipe
        options.steps = steps
        options.batchSize = batchSize
        options.resolution = resolution
        options.seed = seed
        options.learningRate = lr
        options.warmupSteps = warmup
        options.gradientAccumulation = gradientAccumulation
        options.checkpointEvery = checkpointEvery
        options.resume = resume
        options.stopAfter = stopAfter
        options.horizontalFlip = flip
        options.quiet = quiet
        return options
    }

    /// One line at the start: the values this run trains with, as flags.
    func announce(_ command: String, _ options: TrainingOptions, extra: String = "", recipe: String = "the recipe of models/emoji32") {
        guard !quiet else { return }
        let line = "\(command): --steps \(options.steps) --batch-size \(options.batchSize) --lr \(options.learningRate) "
            + "--warmup \(options.warmupSteps) --checkpoint-every \(options.checkpointEvery)\(extra) "
            + "(defaults: \(recipe); set any with its flag)"
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Loads the dataset at the training resolution.
    func loadData() throws -> CaptionedImageFolder {
        if let threads { Threads.count = threads }
        return try dataset.load(resolution: resolution, quiet: quiet)
    }

    /// Makes every later product use `--precision`, saying so when this CPU runs float32 instead.
    func usePrecision() throws {
        do {
            if try ComputePrecision.use(precision) == .float32 && precision == .bfloat16 && !quiet {
                FileHandle.standardError.write(Data("warning: \(ComputePrecision.fallbackNotice)\n".utf8))
            }
        } catch {
            throw CommandFailure(message: "\(error)")
        }
    }

    /// Runs a training command's body on this process's rank (the only one without mpirun),
    /// with errors in terms of flags; rank 0 alone prints, so the others run quiet.
    func runOnRanks(_ body: (TrainingArguments, DataParallelRun) throws -> Void) throws {
        try DataParallelRun.run(threads: threads) { parallel in
            var training = self
            training.quiet = quiet || !parallel.writes
            try training.usePrecision()
            try reportingTrainingErrors { try body(training, parallel) }
        }
    }

    func validate() throws {
        do {
            try options.validate()
        } catch let error as TrainingError {
            throw ValidationError(TrainingFlags.message(error))
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        // An empty --out would train into the current folder and overwrite its config.json.
        guard !out.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--out is empty") }
    }
}
