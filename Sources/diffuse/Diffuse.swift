// Diffuse: the root command of the `diffuse` command-line tool.
import ArgumentParser
import Foundation
import TensorCore

@main
struct Diffuse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diffuse",
        abstract: "A latent diffusion toolkit: generate, noise, denoise and train on the CPU.",
        version: "0.1.0",
        subcommands: [GenerateCommand.self, GalleryCommand.self, NoiseCommand.self, DenoiseCommand.self, ImageToImageCommand.self,
                      InpaintCommand.self, ServeCommand.self, EncodeCommand.self, DecodeCommand.self, EvaluateCommand.self,
                      TrainVAECommand.self, TrainCommand.self, TrainLoRACommand.self, InfoCommand.self, ConvertCommand.self]
    )

    /// Like ArgumentParser's `main`, but a bad flag or value is one `error:` line on stderr
    /// (no usage screen), so every failure of the tool reads the same way.
    static func main() {
        Threads.applyWaitPolicy()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            // Help, --version and errors already reported by the command keep the library's handling.
            guard code != .success, !(error is ExitCode) else { exit(withError: error) }
            var text = message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.hasPrefix("Error: ") { text.removeFirst("Error: ".count) }
            text = oneLine(text)
            FileHandle.standardError.write(Data("error: \(text.terminalSafe)\n".utf8))
            Foundation.exit(code.rawValue)
        }
    }

    /// ArgumentParser's multi-line messages on one line; a "- value" list becomes "a, b, c".
    static func oneLine(_ text: String) -> String {
        var result = "", listing = false
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("- ") {
                result += (listing ? ", " : " ") + line.dropFirst(2)
                listing = true
            } else {
                result += (result.isEmpty ? "" : "; ") + line
                listing = false
            }
        }
        return result
    }
}
