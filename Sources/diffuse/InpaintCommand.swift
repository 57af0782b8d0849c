// `diffuse inpaint IMAGE MASK PROMPT`: repaint the white area of MASK, keep the rest.
import ArgumentParser
import Foundation
import Imaging
import Pipelines
import TensorCore

struct InpaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inpaint",
        abstract: "Repaint the white area of a mask; the rest is kept. Any model (mask blending at every step), or an inpainting model (9-channel U-Net) given the mask.")

    @Argument(help: "The image (PNG or JPEG).")
    var image: String

    @Argument(help: "The mask: white repaints, black keeps (resized to the image).")
    var mask: String

    @Argument(help: "What to paint.")
    var prompt: String

    @OptionGroup var sampling: SamplingOptions

    @Option(name: .shortAndLong, help: "Output PNG.")
    var output = "inpainted.png"

    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        try reportingErrors {
            let (model, modelURL) = try modelOptions.load(inpainting: true)
            try sampling.applyLoRAs(to: model)
            let picture = try Image.load(from: URL(fileURLWithPath: image))
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
            let progress = modelOptions.progress(total: sampling.steps, label: "inpaint")
            let result = try model.inpaint(request, warn: modelOptions.warn) { step in
                progress.update(step.index + 1, of: step.count)
            }
            try ImageOutput.write(try result.images.images(), to: output, parameters: [
                ("prompt", prompt), ("source", image), ("mask", mask),
            ] + sampling.parameters + [("model", modelURL.lastPathComponent)])
            if !modelOptions.quiet { FileHandle.standardError.write(Data("wrote \(output)\n".utf8)) }
        }
    }
}
