// `diffuse img2img IMAGE PROMPT --strength S`: SDEdit, as diffusers' img2img pipeline.
import ArgumentParser
import Foundation
import Pipelines

struct ImageToImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "img2img",
        abstract: "Re-draw an image guided by a prompt (re-noise to a strength, then denoise).")

    @Argument(help: "The starting image (PNG or JPEG; its size must suit the model).")
    var image: String

    @Argument(help: "What to draw.")
    var prompt: String

    @Option(help: "How much to change: 0 keeps the image, 1 ignores it.")
    var strength = 0.6

    @OptionGroup var sampling: SamplingOptions

    @Option(name: .shortAndLong, help: "Output PNG.")
    var output = "img2img.png"

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        guard (0...1).contains(strength) else { throw ValidationError("--strength must be in [0, 1], got \(strength)") }
    }

    func run() throws {
        try reportingErrors {
            let (model, modelURL) = try modelOptions.load()
            try sampling.applyLoRAs(to: model)
            var request = ImageToImageRequest(prompt: prompt, image: try ImageOutput.loadTensor(image))
            request.strength = strength
            sampling.apply(to: &request)
            let progress = modelOptions.progress(total: max(1, Int(Double(sampling.steps) * strength)), label: "img2img")
            let result = try model.imageToImage(request, warn: modelOptions.warn) { step in
                progress.update(step.index + 1, of: step.count)
            }
            try ImageOutput.write(try result.images.images(), to: output, parameters: [
                ("prompt", prompt), ("source", image), ("strength", "\(strength)"),
            ] + sampling.parameters + [("model", modelURL.lastPathComponent)])
            if !modelOptions.quiet { FileHandle.standardError.write(Data("wrote \(output)\n".utf8)) }
        }
    }
}
