// Saving and strictly restoring the loop: model sections, AdamW moments, EMA and the state.
import Foundation
import NN
import TensorCore

extension TrainingLoop {
    /// One file, written atomically: the objective's weights, `adam/…`, `ema/…`, and the
    /// state as JSON metadata.
    public func saveCheckpoint(to url: URL) throws {
        var checkpoint = Checkpoint()
        for section in objective.checkpointSections { checkpoint.add(section: section.name, section.parameters) }
        checkpoint.add(section: "adam", optimizer.stateTensors())
        if let ema { checkpoint.add(section: "ema", ema.shadow) }
        try checkpoint.setJSON(TrainingState.metadataKey, state)
        try checkpoint.write(to: url)
    }

    /// Restores everything `saveCheckpoint` wrote, refusing a checkpoint whose settings,
    /// data, optimiser or EMA state do not match this run (with the field or tensor named).
    public func restore(from url: URL) throws {
        let file = url.path
        let checkpoint = try Checkpoint.read(from: url)
        let saved: TrainingState
        if checkpoint.metadata[TrainingState.metadataKey] != nil {
            do {
                saved = try checkpoint.json(TrainingState.metadataKey, as: TrainingState.self)
            } catch {
                throw TrainingError.checkpoint(file: file, problem: "unreadable \(TrainingState.metadataKey): \(error)")
            }
            try Self.checkSettings(saved: saved.settings, current: state.settings, file: file)
        } else {
            do {
                saved = try TrainingState.legacy(checkpoint, settings: state.settings)
            } catch {
                throw TrainingError.checkpoint(file: file, problem: "\(error)")
            }
            say("note: \(file) is from an older diffuse and records no loss or sampler settings; they are not checked",
                quiet: options.quiet)
        }
        try Self.checkSampler(saved: saved.sampler, current: state.sampler, file: file)
        for section in objective.checkpointSections {
            try checkpoint.restore(section: section.name, into: section.parameters, file: file)
        }
        do {
            try optimizer.load(stateTensors: checkpoint.section("adam"))
            if let ema { try ema.load(checkpoint.section("ema")) }
        } catch let error as StateLoadError {
            let section = error.owner == "EMA" ? "ema" : "adam"
            throw TrainingError.checkpoint(file: file, problem: "\(error) (tensor \(section)/\(error.key))")
        }
        guard saved.step >= 0, saved.step == optimizer.step else {
            throw TrainingError.checkpoint(file: file, problem: "state step \(saved.step) but AdamW step \(optimizer.step)")
        }
        state = saved
    }

    /// Every setting of either side must be present on the other with the same value.
    static func checkSettings(saved: [String: String], current: [String: String], file: String) throws {
        for field in Set(saved.keys).union(current.keys).sorted() where saved[field] != current[field] {
            throw TrainingError.resumeMismatch(field: field, checkpoint: saved[field] ?? "(none)",
                                               current: current[field] ?? "(none)", file: file)
        }
    }

    /// The data order must range over the same examples with the same repeats.
    static func checkSampler(saved: BatchSampler, current: BatchSampler, file: String) throws {
        guard saved.count == current.count else {
            throw TrainingError.resumeMismatch(field: "data", checkpoint: "\(saved.count) training images",
                                               current: "\(current.count)", file: file)
        }
        guard saved.repeats == current.repeats else {
            func describe(_ repeats: [Int]?) -> String {
                guard let repeats else { return "no oversampling" }
                return "\(repeats.filter { $0 > 1 }.count) images oversampled up to \(repeats.max() ?? 1)×"
            }
            throw TrainingError.resumeMismatch(field: "BatchSampler.repeats", checkpoint: describe(saved.repeats),
                                               current: describe(current.repeats), file: file)
        }
    }
}
