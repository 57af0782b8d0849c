// Everything the training loop carries from step to step besides tensors: one Codable value,
// stored as JSON in the checkpoint's metadata.
import Foundation
import TensorCore

/// The random draws of a micro-batch: Gaussian noise from a torch-compatible generator and
/// data decisions (flips, timesteps, caption dropout) from a SplitMix64 state.
public struct TrainingRandomness: Codable, Equatable {
    public var generator: TorchGenerator
    public var decisions: UInt64

    public init(seed: UInt64, decisionSeed: UInt64) {
        generator = TorchGenerator(seed: seed)
        decisions = decisionSeed
    }

    enum CodingKeys: String, CodingKey { case generator, decisions }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        generator = try TorchGenerator(state: c.decode(TorchGenerator.State.self, forKey: .generator))
        decisions = try c.decode(UInt64.self, forKey: .decisions)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(generator.state, forKey: .generator)
        try c.encode(decisions, forKey: .decisions)
    }

    public static func == (a: Self, b: Self) -> Bool { a.generator.state == b.generator.state && a.decisions == b.decisions }

    /// The next Gaussian tensor of `shape`.
    public mutating func randn(_ shape: [Int]) throws -> Tensor {
        try Tensor(shape: shape, values: generator.randn(count: shape.reduce(1, *)))
    }

    /// The next uniform draw in [0, 1), for data decisions.
    public mutating func unit() -> Double { SplitMix64.unit(&decisions) }

    /// The next raw 64-bit decision.
    public mutating func next() -> UInt64 { SplitMix64.next(&decisions) }
}

/// The loop's state after `step` optimiser steps.
public struct TrainingState: Codable, Equatable {
    /// Optimiser steps done.
    public var step = 0
    /// The data order: epoch, position and (with oversampling) repeat counts.
    public var sampler: BatchSampler
    public var randomness: TrainingRandomness
    /// Settings that must match on resume (the objective's loss and sampler), by field name.
    public var settings: [String: String]
    /// Training time up to `step`, over every run that contributed to it.
    public var seconds: Double = 0

    public init(sampler: BatchSampler, randomness: TrainingRandomness, settings: [String: String]) {
        self.sampler = sampler
        self.randomness = randomness
        self.settings = settings
    }

    /// The metadata key the state is stored under.
    static let metadataKey = "training_state"
}

extension TrainingState {
    /// The state of a checkpoint written before `TrainingState` existed: separate `step`,
    /// `sampler`, `generator` and `decisions` (diffusion) or `flip_state` (VAE) entries. Such a
    /// checkpoint recorded no settings, so `settings` (this run's) are taken as its own, and
    /// its time comes from the log.
    static func legacy(_ checkpoint: Checkpoint, settings: [String: String]) throws -> TrainingState {
        guard let decisionText = checkpoint.metadata["decisions"] ?? checkpoint.metadata["flip_state"],
              let decisions = UInt64(decisionText) else {
            throw CheckpointError.missing("checkpoint metadata has neither \(metadataKey) nor decisions / flip_state")
        }
        var randomness = TrainingRandomness(seed: 0, decisionSeed: decisions)
        randomness.generator = try TorchGenerator(state: checkpoint.json("generator", as: TorchGenerator.State.self))
        var state = TrainingState(sampler: try checkpoint.json("sampler", as: BatchSampler.self), randomness: randomness,
                                  settings: settings)
        state.step = try checkpoint.integer("step")
        return state
    }
}
