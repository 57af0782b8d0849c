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
