// `--lora FILE[:SCALE]`: a LoRA file and its strength (default 1), applied before sampling.
import ArgumentParser
import Foundation
import Pipelines

struct LoRASpec: ExpressibleByArgument, CustomStringConvertible {
    var path: String
    var scale: Float

    /// `FILE:0.5` takes a scale; a colon not followed by a number belongs to the path.
    init?(argument: String) {
        if let colon = argument.lastIndex(of: ":"), let scale = Float(argument[argument.index(after: colon)...]) {
            guard scale.isFinite, colon != argument.startIndex else { return nil }
            path = String(argument[..<colon])
            self.scale = scale
        } else {
            guard !argument.isEmpty else { return nil }
            path = argument
            scale = 1
        }
    }

    /// As recorded in a PNG: the file name and its scale.
    var description: String { "\(URL(fileURLWithPath: path).lastPathComponent):\(scale)" }
}

extension SamplingOptions {
    /// Merges every `--lora` into the model, in order; a bad file is one error naming it and its key.
    func applyLoRAs(to model: StableDiffusion) throws {
        for spec in lora {
            do {
                try model.applyLoRA(contentsOf: URL(fileURLWithPath: spec.path), scale: spec.scale)
            } catch {
                throw CommandFailure(message: "--lora: \(error)")
            }
        }
    }
}
