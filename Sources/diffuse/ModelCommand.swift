// The commands that run on one loaded model: the model flags, the load, errors as one line.
import ArgumentParser
import Foundation
import Pipelines

protocol ModelCommand: ParsableCommand {
    var modelOptions: ModelOptions { get }
    /// The command's work on the model `--model` names, found at `url`.
    func run(model: StableDiffusion, url: URL) throws
    /// Whether the command takes an inpainting model (9 U-Net input channels); only `inpaint` does.
    static var takesInpaintingModels: Bool { get }
}

extension ModelCommand {
    static var takesInpaintingModels: Bool { false }

    func run() throws {
        try reportingErrors {
            let (model, url) = try modelOptions.load(inpainting: Self.takesInpaintingModels)
            try run(model: model, url: url)
        }
    }
}
