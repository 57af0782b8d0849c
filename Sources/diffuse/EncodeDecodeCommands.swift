// `diffuse encode` (an image → VAE latents, shown channel by channel) and `diffuse decode`.
import ArgumentParser
import Foundation
import Imaging
import Pipelines
import TensorCore

struct EncodeCommand: ModelCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode an image to VAE latents; show each latent channel as a picture with its statistics.")

    @OptionGroup var input: ImageInput

    @Option(help: "Write the latent channels as a labelled grid (white = high, black = low).")
    var latentsPng: String?

    @Option(help: "Save the scaled latents (tensor 'latents') for `diffuse decode` or `diffuse denoise --t 0`.")
    var saveLatents: String?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        guard latentsPng != nil || saveLatents != nil else {
            throw ValidationError("nothing to write: pass --latents-png FILE and/or --save-latents FILE")
        }
    }

    func run(model: StableDiffusion, url: URL) throws {
        let picture = try input.load()
        let latents = try model.encodeMean(images: Tensor(image: picture))   // [1, C, h, w]
        let (channels, h, w) = (latents.shape[1], latents.shape[2], latents.shape[3])
        var report: [String] = []
        var tiles: [(Image, String)] = [(picture, "input")]
        for c in 0..<channels {
            let values = Array(latents.values[(c * h * w)..<((c + 1) * h * w)])
            let mean = values.reduce(0, +) / Float(values.count)
            let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)).squareRoot()
            let (low, high) = (values.min() ?? 0, values.max() ?? 0)
            report.append(String(format: "channel %d: mean %+.3f std %.3f min %+.3f max %+.3f", c, mean, std, low, high))
            // Each channel stretched over its own range, as gray.
            let span = max(high - low, 1e-6)
            let gray = values.map { UInt8(((($0 - low) / span) * 255).rounded()) }
            let tile = try Image(width: w, height: h, channels: 3, pixels: gray.flatMap { [$0, $0, $0] })
            tiles.append((tile, String(format: "c%d sd%.2f", c, std)))
        }
        print("latents [1, \(channels), \(h), \(w)] (scaled by the VAE's scaling factor)")
        report.forEach { print($0) }
        if let latentsPng {
            try Visualization.labelledGrid(tiles, columns: tiles.count).writePNG(to: URL(fileURLWithPath: latentsPng))
        }
        if let saveLatents {
            try ImageOutput.writeTensors(["latents": latents], to: saveLatents, metadata: ["timestep": "0"])
        }
    }
}

struct DecodeCommand: ModelCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode saved latents (tensor 'latents' [N, C, h, w]) to images with the VAE.")

    @Argument(help: "A safetensors file with tensor 'latents' (from encode, noise or generate).")
    var latents: String

    @Option(name: .shortAndLong, help: "Output PNG (several latents: numbered files plus a grid).")
    var output = "decoded.png"

    @OptionGroup var modelOptions: ModelOptions

    func run(model: StableDiffusion, url: URL) throws {
        let z = try ImageOutput.readTensor("latents", from: latents)
        guard z.rank == 4, z.shape[1] == model.latentChannels else {
            throw CommandFailure(message: "\(latents): latents have shape \(z.shape), expected [N, \(model.latentChannels), h, w]")
        }
        try ImageOutput.write(try model.decode(latents: z).images(), to: output, parameters: [("source", latents)])
    }
}
