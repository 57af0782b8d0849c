// The one training loop of every trainer: accumulation, all-reduce, clipping, AdamW with a
// warm-up + cosine schedule, EMA, CSV + loss curve, progress, checkpoints, time slices, resume.
import FileIO
import Foundation
import NN
import Pipelines
import TensorCore

public final class TrainingLoop {
    public let objective: TrainingObjective
    public let options: TrainingOptions
    /// `OUT/training`: the log, the loss curve and the checkpoint.
    public let directory: URL
    public let optimizer: AdamW
    /// Averages of the trained parameters (nil when the objective ships raw weights).
    public let ema: EMA?
    /// Gradients meet here across ranks in data-parallel training; nil for one process.
    public var allReduce: GradientAllReduce?
    public internal(set) var state: TrainingState
    let parameters: [(key: String, parameter: Parameter)]
    let schedule: LearningRateSchedule

    public init(objective: TrainingObjective, options: TrainingOptions, directory: URL) throws {
        try options.validate()
        self.objective = objective
        self.options = options
        self.directory = directory
        let parameters = objective.trainableParameters
        self.parameters = parameters
        optimizer = AdamW(parameters: parameters, learningRate: options.learningRate, weightDecay: options.weightDecay)
        ema = objective.emaDecay.map { EMA(parameters: parameters, decay: $0) }
        schedule = LearningRateSchedule(peak: options.learningRate, warmupSteps: options.warmupSteps, totalSteps: options.steps)
        state = TrainingState(sampler: try objective.makeSampler(seed: options.seed),
                              randomness: TrainingRandomness(seed: options.seed, decisionSeed: objective.decisionSeed(seed: options.seed)),
                              settings: objective.resumeSettings)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    public var step: Int { state.step }
    /// Where this run ends: `steps`, or sooner with `stopAfter`.
    public var lastStep: Int { options.lastStep }
    public var checkpointURL: URL { directory.appendingPathComponent(Checkpoint.fileName) }
    /// Rank 0 (or the only process) writes files.
    var writes: Bool { (allReduce?.rank ?? 0) == 0 }

    /// Trains from the start, or from the checkpoint with `options.resume`, up to `lastStep`.
    public func run() throws {
        let log = try TrainingLog(directory: directory, name: objective.name,
                                  columns: ["step", "loss"] + objective.metricNames + ["lr", "seconds"], resuming: options.resume)
        // A run killed while writing its checkpoint left a temporary file beside it.
        if writes { OutputFile.removeStaleTemporaries(besides: checkpointURL) }
        if options.resume, FileManager.default.fileExists(atPath: checkpointURL.path) {
            try restore(from: checkpointURL)
            // Checkpoints older than TrainingState kept their clock only in the log.
            if state.seconds == 0 { state.seconds = log.loggedSeconds(atStep: state.step) }
            say("resumed from step \(state.step)", quiet: options.quiet)
        }
        let progress = ProgressBar(total: options.steps, label: objective.name, enabled: !options.quiet && writes)
        let start = Date(timeIntervalSinceNow: -state.seconds)
        while state.step < lastStep {
            let (loss, metrics) = try accumulateGradients()
            guard loss.isFinite else { throw TrainingError.diverged(step: state.step, loss: loss) }
            optimizer.update(gradientScale: clippingScale(norm: gradientNorm(parameters), maxNorm: options.maxGradientNorm))
            objective.zeroGradients()
            state.step += 1
            ema?.update(parameters, step: state.step)
            state.seconds = Date().timeIntervalSince(start)
            let step = state.step
            if writes {
                try log.record(step: step, loss: Double(loss),
                               extra: metrics.map { String(format: "%.6f", $0) }
                                   + [String(format: "%.3g", optimizer.learningRate), String(format: "%.1f", state.seconds)])
                if step % options.logEvery == 0 || step == lastStep { try log.drawCurve(title: "\(objective.name) loss") }
                if step % options.checkpointEvery == 0 || step == lastStep { try saveCheckpoint(to: checkpointURL) }
            }
            progress.update(step, extra: String(format: "loss %.4f", loss))
            try objective.didStep(step, loop: self)
        }
        try objective.didFinish(loop: self)
    }

    /// Sums the gradients of `gradientAccumulation` micro-batches (each loss scaled by their
    /// count, so the sum is the mean), then meets the other ranks. Returns the mean loss and metrics.
    func accumulateGradients() throws -> (loss: Float, metrics: [Float]) {
        optimizer.learningRate = schedule.rate(at: state.step)
        let parts = Float(options.gradientAccumulation)
        var loss: Float = 0
        var metrics = [Float](repeating: 0, count: objective.metricNames.count)
        for _ in 0..<options.gradientAccumulation {
            let batch = state.sampler.next(options.batchSize)
            let part = try objective.loss(batch: batch, step: state.step, randomness: &state.randomness)
            (part.loss / parts).backward()
            loss += part.loss.item / parts
            for (i, value) in part.metrics.prefix(metrics.count).enumerated() { metrics[i] += value / parts }
        }
        // Data-parallel training: every rank's gradients become their mean here.
        try allReduce?.allReduce(parameters, loss: &loss)
        return (loss, metrics)
    }
}
