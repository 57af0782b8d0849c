// `diffuse generate PROMPT`: text to image with classifier-free guidance.
import ArgumentParser
import Foundation
import Imaging
import Pipelines
import TensorCore

struct GenerateCommand: ModelCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate images from a text prompt.")

    @Argument(help: "What to draw.")
    var prompt: String

    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Image width in pixels (default: the model's native size).")
    var width: Int?

    @Option(help: "Image height in pixels (default: the model's native size).")
    var height: Int?

    @Option(help: "Number of images, drawn from one generator.")
    var count = 1

    @Option(help: "Start from these latents (safetensors with tensor 'latents' [N, C, h, w]).")
    var latents: String?

    @Option(name: .shortAndLong, help: "Output PNG (several images: numbered files plus a grid here).")
    var output = "generated.png"

    @Option(help: "Also write the images as safetensors (tensor 'images' [N, H, W, 3] in [0, 1]).")
    var outputTensor: String?

    @Option(help: "Also write the model's predicted clean image after every step, as a labelled grid.")
    var trajectory: String?

    @Option(help: "Also write, for each prompt word, where cross-attention looked (heads, layers and steps averaged).")
    var attentionMaps: String?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
        try requireDistinctPaths([("--output", output), ("--output-tensor", outputTensor), ("--trajectory", trajectory),
                                  ("--attention-maps", attentionMaps)])
    }

    func run(model: StableDiffusion, url: URL) throws {
        try sampling.applyLoRAs(to: model)
        var request = GenerationRequest(prompt: prompt)
        sampling.apply(to: &request)
        request.width = width
        request.height = height
        request.count = count
        if let latents { request.latents = try ImageOutput.readTensor("latents", from: latents) }
        let progress = modelOptions.stepProgress(total: sampling.sampler.steps, label: "generate")
        var recorded: [DenoisingStep] = []
        let latentHeight = (height ?? model.nativeSize) / model.vaeScaleFactor
        let latentWidth = (width ?? model.nativeSize) / model.vaeScaleFactor
        let maps = attentionMaps.map { _ in CrossAttentionMaps(latentHeight: latentHeight, latentWidth: latentWidth, guided: sampling.sampler.guidance > 1) }
        let run = {
            try model.generate(request, warn: modelOptions.warn) { step in
                progress(step)
                if trajectory != nil { recorded.append(step) }
            }
        }
        let result = try maps.map { try model.withAttentionMaps($0, run) } ?? run()
        let images = try result.images.images()
        try ImageOutput.write(images, to: output, parameters: [("prompt", prompt)] + sampling.parameters + [
            ("size", "\(images[0].width)x\(images[0].height)"), ("model", url.lastPathComponent),
            ("software", "diffuse \(Diffuse.configuration.version)"),
        ])
        if let attentionMaps, let maps {
            try maps.overlays(on: images[0], tokens: model.promptTokens(prompt)).writePNG(to: URL(fileURLWithPath: attentionMaps))
        }
        if let trajectory {
            try model.trajectoryGrid(recorded).writePNG(to: URL(fileURLWithPath: trajectory))
        }
        if let outputTensor {
            try ImageOutput.writeTensors(["images": result.images.imagesToUnitNHWC()], to: outputTensor)
        }
        modelOptions.wrote(output)
    }
}
