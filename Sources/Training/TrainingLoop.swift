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
    public var writes: Bool { (allReduce?.rank ?? 0) == 0 }

    /// Trains from the start, or from the checkpoint with `options.resume`, up to `lastStep`.
    public func run() throws {
        if let allReduce, options.batchSize < allReduce.size {
            throw TrainingError.invalidOption(field: "TrainingOptions.batchSize",
                                              problem: "must be at least the number of ranks (\(allReduce.size)), got \(options.batchSize)")
        }
        let log = writes ? try TrainingLog(directory: directory, name: objective.name,
                                           columns: ["step", "loss"] + objective.metricNames + ["lr", "seconds"], resuming: options.resume) : nil
        // A run killed while writing its checkpoint left a temporary file beside it.
        if writes { OutputFile.removeStaleTemporaries(besides: checkpointURL) }
        if options.resume, FileManager.default.fileExists(atPath: checkpointURL.path) {
            try restore(from: checkpointURL)
            // Checkpoints older than TrainingState kept their clock only in the log.
            if state.seconds == 0 { state.seconds = log?.loggedSeconds(atStep: state.step) ?? 0 }
            say("resumed from step \(state.step)", quiet: options.quiet || !writes)
        } else if options.resume {
            // Resuming a run that never wrote a checkpoint starts it, so one command starts or continues
            // a run; said even when quiet, since a typo in the output folder also lands here.
            say("warning: nothing to resume: \(checkpointURL.path) does not exist; training starts at step 0", quiet: !writes)
        }
        // Up to where this run stops (--stop-after), so the time left is this run's.
        let progress = ProgressBar(total: lastStep, label: objective.name, enabled: !options.quiet && writes,
                                   startingAt: state.step)
        let start = Date(timeIntervalSinceNow: -state.seconds)
        let (firstStep, runStart) = (state.step, Date())
        while state.step < lastStep {
            let (loss, metrics) = try accumulateGradients()
            guard loss.isFinite else { throw TrainingError.diverged(step: state.step, loss: loss) }
            optimizer.update(gradientScale: clippingScale(norm: gradientNorm(parameters), maxNorm: options.maxGradientNorm))
            objective.zeroGradients()
            state.step += 1
            ema?.update(parameters, step: state.step)
            state.seconds = Date().timeIntervalSince(start)
            let step = state.step
            if let log {
                try log.record(step: step, loss: Double(loss),
                               extra: metrics.map { String(format: "%.6f", $0) }
                                   + [String(format: "%.3g", optimizer.learningRate), String(format: "%.1f", state.seconds)])
                if step % options.logEvery == 0 || step == lastStep { try log.drawCurve(title: "\(objective.name) loss") }
                if step % options.checkpointEvery == 0 || step == lastStep { try saveCheckpoint(to: checkpointURL) }
            }
            // The global rate: every step is a whole global batch, whatever the number of ranks.
            let images = Double((step - firstStep) * options.batchSize * options.gradientAccumulation)
            let rate = allReduce.map { String(format: ", %.1f img/s on %d ranks", images / max(Date().timeIntervalSince(runStart), 1e-9), $0.size) }
            progress.update(step, extra: String(format: "loss %.4f", loss) + (rate ?? ""))
            try objective.didStep(step, loop: self)
        }
        try objective.didFinish(loop: self)
    }

    /// Sums the gradients of `gradientAccumulation` micro-batches (each loss scaled by their
    /// count, so the sum is the mean), then meets the other ranks. Returns the mean loss and metrics.
    /// With several ranks each computes its shard of every micro-batch, its loss scaled by
    /// its share of the batch, and the all-reduce sums the shares into the global means.
    func accumulateGradients() throws -> (loss: Float, metrics: [Float]) {
        optimizer.learningRate = schedule.rate(at: state.step)
        let parts = Float(options.gradientAccumulation)
        let shard = BatchShard.range(count: options.batchSize, rank: allReduce?.rank ?? 0, size: allReduce?.size ?? 1)
        let share = Float(shard.count) / Float(options.batchSize)
        var loss: Float = 0
        var metrics = [Float](repeating: 0, count: objective.metricNames.count)
        for _ in 0..<options.gradientAccumulation {
            let batch = state.sampler.next(options.batchSize)
            let part = try objective.loss(batch: batch, shard: shard, step: state.step, randomness: &state.randomness)
            // One process keeps its exact arithmetic (share is 1).
            (shard.count == batch.count ? part.loss / parts : part.loss * (share / parts)).backward()
            loss += part.loss.item * share / parts
            for (i, value) in part.metrics.prefix(metrics.count).enumerated() { metrics[i] += value * share / parts }
        }
        // Data-parallel training: every rank's shares become the global means here.
        if let allReduce {
            var values = [loss] + metrics
            try allReduce.allReduce(parameters, values: &values)
            (loss, metrics) = (values[0], Array(values.dropFirst()))
        }
        return (loss, metrics)
    }
}
