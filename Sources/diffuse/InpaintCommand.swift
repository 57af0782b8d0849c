// `diffuse inpaint IMAGE MASK PROMPT`: repaint the white area of MASK, keep the rest.
import ArgumentParser
import Foundation
import Imaging
import Pipelines
import TensorCore

struct InpaintCommand: ModelCommand {
    static let configuration = CommandConfiguration(
        commandName: "inpaint",
        abstract: "Repaint the white area of a mask; the rest is kept. Any model (mask blending at every step), or an inpainting model (9-channel U-Net) given the mask.")

    @OptionGroup var input: ImageInput

    @Argument(help: "The mask: white repaints, black keeps (resized to the image).")
    var mask: String

    @Argument(help: "What to paint.")
    var prompt: String

    @OptionGroup var sampling: SamplingOptions

    @Option(name: .shortAndLong, help: "Output PNG.")
    var output = "inpainted.png"

    @OptionGroup var modelOptions: ModelOptions

    static let takesInpaintingModels = true

    func run(model: StableDiffusion, url: URL) throws {
        try sampling.applyLoRAs(to: model)
        let picture = try input.load()
        var maskImage = try Image.load(from: URL(fileURLWithPath: mask))
        if maskImage.width != picture.width || maskImage.height != picture.height {
            maskImage = try maskImage.resized(width: picture.width, height: picture.height)
        }
        let weights = (0..<(picture.width * picture.height)).map { p -> Float in
            let base = p * maskImage.channels
            let gray = (Float(maskImage.pixels[base]) + Float(maskImage.pixels[base + 1]) + Float(maskImage.pixels[base + 2])) / 765
            return gray
        }
        var request = InpaintRequest(prompt: prompt, image: try Tensor(image: picture), mask: weights)
        sampling.apply(to: &request)
        let result = try model.inpaint(request, warn: modelOptions.warn,
                                       onStep: modelOptions.stepProgress(total: sampling.sampler.steps, label: "inpaint"))
        try ImageOutput.write(try result.images.images(), to: output, parameters: [
            ("prompt", prompt), ("source", input.image), ("mask", mask),
        ] + sampling.parameters + [("model", url.lastPathComponent)])
        modelOptions.wrote(output)
    }
}
