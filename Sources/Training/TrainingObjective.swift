// What a trainer supplies to the one training loop: parameters, a micro-batch loss, what to
// save and sample. The loop does the rest (accumulation, clipping, EMA, logs, checkpoints).
import Foundation
import NN
import TensorCore

/// One micro-batch's loss (mean over its examples) and any metrics logged beside it.
public struct MicroBatchLoss {
    public var loss: Tensor
    /// One value per `TrainingObjective.metricNames`, averaged over micro-batches in the log.
    public var metrics: [Float]

    public init(loss: Tensor, metrics: [Float] = []) {
        self.loss = loss
        self.metrics = metrics
    }
}

public protocol TrainingObjective: AnyObject {
    /// Names the log (`NAME.csv`, `NAME-loss.png`) and labels progress: `vae`, `diffusion`.
    var name: String { get }
    /// What the optimiser updates (and EMA averages), by dotted key.
    var trainableParameters: [(key: String, parameter: Parameter)] { get }
    /// Model weights kept in checkpoints, by section (`model`, `unet`, `text_encoder`).
    var checkpointSections: [(name: String, parameters: [(key: String, parameter: Parameter)])] { get }
    /// Extra CSV columns after `step` and `loss`.
    var metricNames: [String] { get }
    /// EMA decay of the shipped weights; nil for none.
    var emaDecay: Float? { get }
    /// Settings a resume must share with its checkpoint (loss, prediction, sampler, data),
    /// keyed by field name (`DiffusionTrainingOptions.predictionType`).
    var resumeSettings: [String: String] { get }

    /// The data order over the objective's examples, from the run's seed.
    func makeSampler(seed: UInt64) throws -> BatchSampler
    /// Seed of the data-decision stream (distinct per objective, so streams differ).
    func decisionSeed(seed: UInt64) -> UInt64
    /// The loss of one micro-batch: `batch` indexes the sampler's examples.
    func loss(batch: [Int], step: Int, randomness: inout TrainingRandomness) throws -> MicroBatchLoss
    /// Data-parallel training: the loss (mean) over the examples `shard` of the global
    /// micro-batch `batch`. Every random draw is made for the whole batch, in the same order
    /// as `loss(batch:…)`, so each example gets the same noise whichever rank computes it.
    func loss(batch: [Int], shard: Range<Int>, step: Int, randomness: inout TrainingRandomness) throws -> MicroBatchLoss
    /// Clears every gradient the loss produced (trained or frozen parameters).
    func zeroGradients()
    /// After each optimiser step and its checkpoint (sample grids, extra files).
    func didStep(_ step: Int, loop: TrainingLoop) throws
    /// When the run ends, finished or stopped early.
    func didFinish(loop: TrainingLoop) throws
}

extension TrainingObjective {
    public var metricNames: [String] { [] }
    public var emaDecay: Float? { nil }
    public var resumeSettings: [String: String] { [:] }
    public func decisionSeed(seed: UInt64) -> UInt64 { seed &+ 1 }
    /// Objectives without their own sharding train in one process only.
    public func loss(batch: [Int], shard: Range<Int>, step: Int, randomness: inout TrainingRandomness) throws -> MicroBatchLoss {
        guard shard == batch.indices else {
            throw TrainingError.invalidOption(field: "TrainingOptions.batchSize",
                                              problem: "cannot be split over ranks: the \(name) objective trains in one process only")
        }
        return try loss(batch: batch, step: step, randomness: &randomness)
    }
    public func zeroGradients() { for (_, parameter) in trainableParameters { parameter.zeroGrad() } }
    public func didStep(_ step: Int, loop: TrainingLoop) throws {}
    public func didFinish(loop: TrainingLoop) throws {}
}
