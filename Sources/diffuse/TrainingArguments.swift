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

    @Option(help: "Optimiser steps.")
    var steps: Int

    @Option(help: "Images per step.")
    var batchSize: Int

    @Option(help: "Image side in pixels (images are resized and centre-cropped).")
    var resolution = 32

    @Option(help: "Seed for weights, data order and noise.")
    var seed: UInt64 = 0

    @Option(help: "Peak learning rate (AdamW; linear warm-up, then cosine decay).")
    var lr: Float

    @Option(help: "Warm-up steps.")
    var warmup = 200

    @Option(help: "Micro-batches per optimiser step (gradient accumulation).")
    var gradientAccumulation = 1

    @Option(help: "Write a checkpoint every N steps.")
    var checkpointEvery = 250

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

    func options() -> TrainingOptions {
        var options = TrainingOptions()
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
        try options().validate()
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }
}
