// `diffuse denoise INPUT --t T`: the reverse process from step T back to a clean image.
import ArgumentParser
import Foundation
import Imaging
import Pipelines
import TensorCore

struct DenoiseCommand: ModelCommand {
    static let configuration = CommandConfiguration(
        commandName: "denoise",
        abstract: "Denoise an image (or saved latents) taken as x_T, from step T down to a clean image.")

    @Argument(help: "A noisy image (PNG/JPEG, encoded by the VAE) or latents saved by `diffuse noise --save-latents`.")
    var input: String

    @Option(help: "The timestep the input is at (default for saved latents: the t stored with them).")
    var t: Int?

    @Option(help: "An optional prompt to guide the denoising.")
    var prompt = ""

    @Option(help: "Steps taken from T down to 0 (DDIM).")
    var steps = 25

    @Option(help: "Guidance scale when a prompt is given.")
    var guidance: Float = 7.5

    @OptionGroup var resize: SquareSizeOption

    @Option(name: .shortAndLong, help: "Output PNG.")
    var output = "denoised.png"

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
    }

    func run(model: StableDiffusion, url: URL) throws {
        let latents: Tensor
        var timestep = t
        if input.hasSuffix(".safetensors") {
            let file = try SafetensorsFile(contentsOf: URL(fileURLWithPath: input))
            latents = try ImageOutput.readTensor("latents", from: input)
            if timestep == nil { timestep = file.metadata["timestep"].flatMap { Int($0) } }
        } else {
            let picture = try resize.apply(to: Image.load(from: URL(fileURLWithPath: input)))
            latents = try model.encodeMean(images: try Tensor(image: picture))
        }
        guard let timestep else { throw CommandFailure(message: "--t is required for \(input)") }
        let result = try model.denoise(latents: latents, from: timestep, steps: steps, prompt: prompt, guidance: guidance,
                                       onStep: modelOptions.stepProgress(total: max(1, min(steps, timestep)), label: "denoise"))
        try ImageOutput.write(try result.images.images(), to: output, parameters: [
            ("source", input), ("t", "\(timestep)"), ("prompt", prompt), ("steps", "\(steps)"),
            ("model", url.lastPathComponent),
        ])
        modelOptions.wrote(output)
    }
}
