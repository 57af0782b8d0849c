// Options of the training loop, shared by every objective, with the shipped recipes' values.
import Foundation
import TensorCore

public struct TrainingOptions: Equatable {
    public var steps = 1000
    public var batchSize = 32
    public var resolution = 32
    public var seed: UInt64 = 0
    public var learningRate: Float = 5e-4
    public var warmupSteps = 100
    /// Micro-batches whose gradients are summed before each update.
    public var gradientAccumulation = 1
    public var maxGradientNorm: Float = 1
    public var weightDecay: Float = 1e-2
    public var checkpointEvery = 100
    public var resume = false
    public var quiet = false
    public var horizontalFlip = false
    /// End this run after this many steps in total (checkpointing there), keeping the
    /// schedule of `steps`: training in time slices, resumed with `resume`.
    public var stopAfter: Int?
    /// Steps between loss-curve redraws.
    public var logEvery = 10

    public init() {}

    /// The VAE stage of the 32-px model, models/emoji32 (scripts/train-emoji.sh): 1000 steps of 24 images at
    /// 6e-4, 50 warm-up steps, a checkpoint every 100.
    public static var vaeRecipe: TrainingOptions { recipe(steps: 1000, batchSize: 24, learningRate: 6e-4, warmupSteps: 50) }

    /// The first diffusion stage of models/emoji32: 2400 steps of 32 images at 5e-4, 150
    /// warm-up steps, a checkpoint every 100 (samples every 600: `DiffusionTrainingOptions`).
    public static var diffusionRecipe: TrainingOptions { recipe(steps: 2400, batchSize: 32, learningRate: 5e-4, warmupSteps: 150) }

    /// The defaults with a recipe's schedule: what each trainer starts from.
    public static func recipe(steps: Int, batchSize: Int, learningRate: Float, warmupSteps: Int,
                              checkpointEvery: Int = 100) -> TrainingOptions {
        var options = TrainingOptions()
        (options.steps, options.batchSize, options.learningRate, options.warmupSteps, options.checkpointEvery) =
            (steps, batchSize, learningRate, warmupSteps, checkpointEvery)
        return options
    }

    /// The step at which this run ends: `steps`, or `stopAfter` when sooner.
    public var lastStep: Int { min(steps, stopAfter ?? steps) }

    public func validate() throws {
        try require(steps >= 1, "TrainingOptions.steps", "must be at least 1, got \(steps)")
        try require(batchSize >= 1, "TrainingOptions.batchSize", "must be at least 1, got \(batchSize)")
        try require(resolution >= 8, "TrainingOptions.resolution", "must be at least 8, got \(resolution)")
        let maxPixels = try ResourceLimits.maxPixels()
        let (pixels, overflow) = resolution.multipliedReportingOverflow(by: resolution)
        try require(!overflow && pixels <= maxPixels, "TrainingOptions.resolution",
                    "must be at most \(Int(Double(maxPixels).squareRoot())) (the limit of \(maxPixels) pixels an image; "
                    + "set \(ResourceLimits.maxPixelsVariable) to raise it), got \(resolution)")
        try require(learningRate > 0 && learningRate.isFinite, "TrainingOptions.learningRate", "must be positive, got \(learningRate)")
        try require(warmupSteps >= 0, "TrainingOptions.warmupSteps", "must be at least 0, got \(warmupSteps)")
        try require(gradientAccumulation >= 1, "TrainingOptions.gradientAccumulation", "must be at least 1, got \(gradientAccumulation)")
        try require(maxGradientNorm >= 0 && maxGradientNorm.isFinite, "TrainingOptions.maxGradientNorm",
                    "must be 0 (no clipping) or positive, got \(maxGradientNorm)")
        try require(weightDecay >= 0 && weightDecay.isFinite, "TrainingOptions.weightDecay", "must be at least 0, got \(weightDecay)")
        try require(checkpointEvery >= 1, "TrainingOptions.checkpointEvery", "must be at least 1, got \(checkpointEvery)")
        try require(stopAfter.map { $0 >= 1 } ?? true, "TrainingOptions.stopAfter", "must be at least 1, got \(stopAfter ?? 0)")
        try require(logEvery >= 1, "TrainingOptions.logEvery", "must be at least 1, got \(logEvery)")
    }
}

/// Prints one line unless quiet (progress goes through ProgressBar).
func say(_ text: String, quiet: Bool) {
    if !quiet { FileHandle.standardError.write(Data((text + "\n").utf8)) }
}
