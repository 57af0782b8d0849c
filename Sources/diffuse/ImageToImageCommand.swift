// `diffuse img2img IMAGE PROMPT --strength S`: SDEdit, as diffusers' img2img pipeline.
import ArgumentParser
import Foundation
import Pipelines
import TensorCore

struct ImageToImageCommand: ModelCommand {
    static let configuration = CommandConfiguration(
        commandName: "img2img",
        abstract: "Re-draw an image guided by a prompt (re-noise to a strength, then denoise).")

    @OptionGroup var input: ImageInput

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

    func run(model: StableDiffusion, url: URL) throws {
        try sampling.applyLoRAs(to: model)
        var request = ImageToImageRequest(prompt: prompt, image: try Tensor(image: input.load()))
        request.strength = strength
        sampling.apply(to: &request)
        let progress = modelOptions.stepProgress(total: max(1, Int(Double(sampling.sampler.steps) * strength)), label: "img2img")
        let result = try model.imageToImage(request, warn: modelOptions.warn, onStep: progress)
        try ImageOutput.write(try result.images.images(), to: output, parameters: [
            ("prompt", prompt), ("source", input.image), ("strength", "\(strength)"),
        ] + sampling.parameters + [("model", url.lastPathComponent)])
        modelOptions.wrote(output)
    }
}
