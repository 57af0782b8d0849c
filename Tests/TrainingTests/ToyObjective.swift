// A tiny objective for testing the training loop itself: Linear → SiLU → Linear regressing
// a fixed function of 16 points, with EMA and a settable resume setting.
import Foundation
import NN
import TensorCore
import Training

final class ToyModel: Module {
    let first: Linear, second: Linear

    init(seed: UInt64) {
        var initializer = Initializer(seed: seed)
        first = Linear(2, 8, initializer: &initializer)
        second = Linear(8, 1, initializer: &initializer)
    }

    var children: [(String, Module)] { [("first", first), ("second", second)] }

    /// [B, 2] → [B, 1]
    func callAsFunction(_ x: Tensor) -> Tensor { second(first(x).silu()) }
}

final class ToyObjective: TrainingObjective {
    let model = ToyModel(seed: 5)
    var setting = "a"
    /// 16 points [16, 2] and their targets [16, 1].
    let inputs: [[Float]] = (0..<16).map { [Float($0 % 4) / 2 - 0.75, Float($0 / 4) / 2 - 0.75] }

    var name: String { "toy" }
    var trainableParameters: [(key: String, parameter: Parameter)] { model.namedParameters() }
    var checkpointSections: [(name: String, parameters: [(key: String, parameter: Parameter)])] { [("model", model.namedParameters())] }
    var emaDecay: Float? { 0.9 }
    var resumeSettings: [String: String] { ["ToyObjective.setting": setting] }
    var metricNames: [String] { ["noise"] }

    func makeSampler(seed: UInt64) -> BatchSampler { BatchSampler(count: inputs.count, seed: seed) }

    func loss(batch: [Int], step: Int, randomness: inout TrainingRandomness) throws -> MicroBatchLoss {
        let x = try Tensor(shape: [batch.count, 2], values: batch.flatMap { inputs[$0] })
        let jitter = try randomness.randn([batch.count, 1]) * 0.01  // exercises the generator's state
        let target = try Tensor(shape: [batch.count, 1], values: batch.map { inputs[$0][0] * inputs[$0][1] }) + jitter
        return MicroBatchLoss(loss: model(x).mseLoss(target), metrics: [jitter.square().mean().item])
    }
}
