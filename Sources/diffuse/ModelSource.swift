// `--model` and the flags a single-file model may need: where a command's model comes from.
import ArgumentParser
import Foundation
import Pipelines

struct ModelSource: ParsableArguments {
    @Option(help: "Model folder (diffusers layout) or single-file checkpoint (.safetensors, LDM layout). Default: $DIFFUSE_MODEL, else models/emoji.")
    var model: String?

    @Option(help: "With a single-file --model: a diffusers folder whose configs, tokenizer and scheduler to use (for files not of SD's sizes).")
    var config: String?

    @Option(help: "With a single-file --model: what the U-Net predicts (\(PredictionOption.allValueStrings.joined(separator: ", "))), where the file cannot say.")
    var prediction: PredictionOption?

    /// Finds the model and loads it; returns where it was found. An inpainting model (a U-Net
    /// that also takes the mask and masked image) is refused unless the command is `inpaint`.
    func load(inpainting: Bool = false) throws -> (StableDiffusion, URL) {
        let url = try ModelLocator.resolve(model)
        let model: StableDiffusion
        if !ModelLocator.isFolder(url) {
            model = try loadSingleFile(url)
        } else {
            if config != nil || prediction != nil { throw CommandFailure(message: "--config and --prediction apply to a single-file --model, and \(url.path) is a folder") }
            do {
                model = try StableDiffusion.load(directory: url)
            } catch {
                throw CommandFailure(message: "cannot load model \(url.path): \(error)")
            }
        }
        if model.isInpaintingModel && !inpainting { throw Self.inpaintingOnly(url) }
        return (model, url)
    }

    static func inpaintingOnly(_ url: URL) -> CommandFailure {
        CommandFailure(message: "\(url.path): an inpainting model (9 U-Net input channels: latents, mask and masked image) "
            + "paints inside a mask only: use `diffuse inpaint IMAGE MASK PROMPT --model \(url.path)`")
    }
}
