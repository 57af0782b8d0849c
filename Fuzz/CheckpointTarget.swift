// Training checkpoints: the safetensors file, then the TrainingState in its metadata, used as resume uses it.
import Foundation
@testable import Training
import TensorCore

let checkpointTarget = FuzzTarget(name: "checkpoint", summary: "training checkpoints: tensors, TrainingState (sampler, RNG) and legacy metadata") { bytes in
    let checkpoint = try Checkpoint(file: SafetensorsFile(data: Data(bytes), path: "checkpoint.safetensors"))
    var state = checkpoint.metadata[TrainingState.metadataKey] != nil
        ? try checkpoint.json(TrainingState.metadataKey, as: TrainingState.self)
        : try TrainingState.legacy(checkpoint, settings: [:])
    // What the resumed loop does next: the data order and the random draws.
    // The oracle: a decoded sampler only ever draws images that exist.
    for size in [1, 3, 5] {
        for index in state.sampler.next(size) where !(0..<state.sampler.count).contains(index) {
            fatalError("sampler drew image \(index) of \(state.sampler.count)")
        }
    }
    _ = try state.randomness.randn([2, 3])
    _ = state.randomness.unit()
}
