// `diffuse noise IMAGE --t T[,T…]`: the forward process, in latent or pixel space.
import ArgumentParser
import Foundation
import Imaging
import Pipelines
import TensorCore

struct NoiseCommand: ModelCommand {
    static let configuration = CommandConfiguration(
        commandName: "noise",
        abstract: "Add Gaussian noise to an image at timestep t with the model's schedule (a list of t writes a ladder).")

    @OptionGroup var input: ImageInput

    @Option(help: "Timestep(s), comma-separated, in [0, 1000); t = 0 is the clean image.")
    var t: String = "0,250,500,750,999"

    @Option(help: "Noise the VAE latents or the pixels directly.")
    var space = NoiseSpace.latent

    @Option(help: "Seed of the noise ε (the same ε is used at every t).")
    var seed: UInt64 = 0

    @Option(help: "Save z_t of the last t as safetensors (tensor 'latents'; its metadata keeps t) for `diffuse denoise`.")
    var saveLatents: String?

    @Option(name: .shortAndLong, help: "Output PNG (a list of t: numbered files plus a ladder here).")
    var output = "noised.png"

    @OptionGroup var modelOptions: ModelOptions

    func timesteps() throws -> [Int] {
        let parts = t.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Int($0) }
        guard !parts.isEmpty, values.count == parts.count else { throw ValidationError("--t takes integers separated by commas, got '\(t)'") }
        return values
    }

    func validate() throws {
        _ = try timesteps()
        if saveLatents != nil, space == .pixel { throw ValidationError("--save-latents needs --space latent") }
    }

    func run(model: StableDiffusion, url: URL) throws {
        let steps = try timesteps()
        let picture = try input.load()
        let factor = model.vaeScaleFactor
        guard picture.width % factor == 0, picture.height % factor == 0 else {
            throw CommandFailure(message: "\(input.image): \(picture.width)×\(picture.height) is not a multiple of \(factor); pass --size")
        }
        let pixels = try Tensor(image: picture)
        let noised = try model.noise(image: pixels, timesteps: steps, space: space, seed: seed)
        let images = try noised.map { try $0.image.image() }
        // A ladder shows both spaces side by side: the same schedule on latents and on pixels.
        var ladder: Image?
        if steps.count > 1 {
            let other = try model.noise(image: pixels, timesteps: steps, space: space == .latent ? .pixel : .latent, seed: seed)
            let rows = space == .latent ? [(noised, "latent"), (other, "pixel")] : [(other, "latent"), (noised, "pixel")]
            ladder = try Self.ladder(rows)
        }
        try ImageOutput.write(images, to: output, parameters: [
            ("source", input.image), ("t", t), ("space", space.rawValue), ("seed", "\(seed)"),
            ("sqrt_alpha_bar", noised.map { String(format: "%.4f", $0.signalScale) }.joined(separator: ",")),
        ], grid: ladder)
        if let saveLatents {
            guard let last = noised.last, let latents = last.latents else {
                throw CommandFailure(message: "--save-latents needs --space latent")
            }
            try ImageOutput.writeTensors(["latents": latents], to: saveLatents, metadata: ["timestep": "\(last.timestep)"])
        }
        modelOptions.wrote(output)
    }

    /// Rows of noised images, each led by a tile naming its space, labelled with t and √ᾱ_t.
    static func ladder(_ rows: [([NoisedImage], String)]) throws -> Image {
        var tiles: [(Image, String)] = []
        for (row, name) in rows {
            guard let first = row.first else { continue }
            let sample = try first.image.image()
            var nameTile = try Image(width: sample.width, height: sample.height, channels: 3, color: [255, 255, 255])
            let scale = max(1, sample.width / 40)
            BitmapFont.draw(name, on: &nameTile, x: 1, y: (sample.height - BitmapFont.glyphHeight * scale) / 2, color: [0, 0, 0], scale: scale)
            tiles.append((nameTile, ""))
            for noisy in row {
                tiles.append((try noisy.image.image(), String(format: "t%d %@%.2f", noisy.timestep, "√ᾱ", noisy.signalScale)))
            }
        }
        return try Visualization.labelledGrid(tiles, columns: (rows.first?.0.count ?? 0) + 1)
    }
}
