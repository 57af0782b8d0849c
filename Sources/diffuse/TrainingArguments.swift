// Flags shared by `train-vae` and `train`.
import ArgumentParser
import Foundation
import TensorCore
import Training

struct TrainingArguments: ParsableArguments {
    @Option(help: "Folder of PNG/JPEG images (captions: metadata.jsonl, captions.tsv or NAME.txt).")
    var data: String

    @Option(help: "Output folder (the model; logs and checkpoints go in its training/ subfolder).")
    var out: String

    @Option(help: "Optimiser steps (default: 1000 for train-vae, 2400 for train).")
    var steps: Int?

    @Option(help: "Images per step (default: 24 for train-vae, 32 for train).")
    var batchSize: Int?

    @Option(help: "Image side in pixels (images are resized and centre-cropped).")
    var resolution = 32

    @Option(help: "Seed for weights, data order and noise.")
    var seed: UInt64 = 0

    @Option(help: "Peak learning rate (AdamW; linear warm-up, then cosine decay; default: 6e-4 for train-vae, 5e-4 for train).")
    var lr: Float?

    @Option(help: "Warm-up steps (default: 50 for train-vae, 150 for train).")
    var warmup: Int?

    @Option(help: "Micro-batches per optimiser step (gradient accumulation).")
    var gradientAccumulation = 1

    @Option(help: "Write a checkpoint every N steps (default: 100).")
    var checkpointEvery: Int?

    @Option(help: "Stop (with a checkpoint) after this many steps, keeping the --steps schedule; continue later with --resume.")
    var stopAfter: Int?

    @Flag(help: "Continue from the output folder's last checkpoint.")
    var resume = false

    @Flag(help: "Randomly flip images horizontally.")
    var flip = false

    @Option(help: "Threads to use (default: all cores).")
    var threads: Int?

    @Flag(help: "No progress output.")
    var quiet = false

    /// The recipe's options with every flag given applied over them.
    func options(over recipe: TrainingOptions) -> TrainingOptions {
        var options = recipe
        options.steps = steps ?? recipe.steps
        options.batchSize = batchSize ?? recipe.batchSize
        options.resolution = resolution
        options.seed = seed
        options.learningRate = lr ?? recipe.learningRate
        options.warmupSteps = warmup ?? recipe.warmupSteps
        options.gradientAccumulation = gradientAccumulation
        options.checkpointEvery = checkpointEvery ?? recipe.checkpointEvery
        options.resume = resume
        options.stopAfter = stopAfter
        options.horizontalFlip = flip
        options.quiet = quiet
        return options
    }

    /// One line at the start: the values this run trains with, as flags.
    func announce(_ command: String, _ options: TrainingOptions, extra: String = "") {
        guard !quiet else { return }
        let line = "\(command): --steps \(options.steps) --batch-size \(options.batchSize) --lr \(options.learningRate) "
            + "--warmup \(options.warmupSteps) --checkpoint-every \(options.checkpointEvery)\(extra) "
            + "(defaults: the recipe of models/emoji; set any with its flag)"
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Loads the dataset, reporting unreadable images by name.
    func loadData() throws -> CaptionedImageFolder {
        if let threads { Threads.count = threads }
        let progress = ProgressBarProxy(enabled: !quiet, label: "load images")
        let folder = try CaptionedImageFolder(directory: URL(fileURLWithPath: data), resolution: resolution) { done, total in
            progress.update(done, total)
        }
        for (file, reason) in folder.skipped {
            FileHandle.standardError.write(Data("warning: skipped \(file): \(reason)\n".utf8))
        }
        return folder
    }

    func validate() throws {
        do {
            try options(over: TrainingOptions()).validate()
        } catch let error as TrainingError {
            throw ValidationError(TrainingFlags.message(error))
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        // An empty --out would train into the current folder and overwrite its config.json.
        guard !out.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--out is empty") }
        guard !data.isEmpty else { throw ValidationError("--data is empty") }
    }
}
