// Options shared by the VAE and diffusion trainers.
import Foundation

public struct TrainingOptions {
    public var steps = 1000
    public var batchSize = 32
    public var resolution = 32
    public var seed: UInt64 = 0
    public var learningRate: Float = 2e-4
    public var warmupSteps = 100
    /// Micro-batches whose gradients are summed before each update.
    public var gradientAccumulation = 1
    public var maxGradientNorm: Float = 1
    public var weightDecay: Float = 1e-2
    public var checkpointEvery = 200
    public var resume = false
    public var quiet = false
    public var horizontalFlip = false
    /// End this run after this many steps in total (checkpointing there), keeping the
    /// schedule of `steps`: training in time slices, resumed with `resume`.
    public var stopAfter: Int?
    /// Steps between log lines and loss-curve redraws.
    public var logEvery = 10

    public init() {}

    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws { if !ok { throw DatasetError.invalid(message) } }
        try require(steps >= 1, "--steps must be at least 1, got \(steps)")
        try require(batchSize >= 1, "--batch-size must be at least 1, got \(batchSize)")
        try require(resolution >= 8, "--resolution must be at least 8, got \(resolution)")
        try require(learningRate > 0 && learningRate.isFinite, "--lr must be positive, got \(learningRate)")
        try require(gradientAccumulation >= 1, "--gradient-accumulation must be at least 1")
        try require(checkpointEvery >= 1, "--checkpoint-every must be at least 1, got \(checkpointEvery)")
    }
}

/// Prints one line unless quiet (progress goes through ProgressBar).
func say(_ text: String, quiet: Bool) {
    if !quiet { FileHandle.standardError.write(Data((text + "\n").utf8)) }
}
