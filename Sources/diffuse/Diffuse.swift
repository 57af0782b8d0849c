// Diffuse: the root command of the `diffuse` command-line tool.
import ArgumentParser

@main
struct Diffuse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffuse",
        abstract: "A latent diffusion toolkit: generate, noise, denoise and train on the CPU.",
        version: "0.1.0",
        subcommands: [GenerateCommand.self, NoiseCommand.self, DenoiseCommand.self, ImageToImageCommand.self, InfoCommand.self]
    )
}
