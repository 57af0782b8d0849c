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
            var command = try parseAcceptingNegativeNumbers()
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

    /// ArgumentParser takes `-1` after an option for a flag ("Missing value for '--lr <lr>'"). When
    /// the command line does not parse, each negative number after a long option is tried as
    /// `--option=-1`; then the option's own check says what is wrong with the value.
    static func parseAcceptingNegativeNumbers() throws -> ParsableCommand {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            return try parseAsRoot(arguments)
        } catch {
            let joined = joiningNegativeNumbers(arguments)
            guard joined != arguments else { throw error }
            return try parseAsRoot(joined)
        }
    }

    /// `--name -2.5` as `--name=-2.5` (up to a `--` that ends the options).
    static func joiningNegativeNumbers(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { return result + arguments[index...] }
            if argument.hasPrefix("--"), !argument.contains("="), index + 1 < arguments.count,
               arguments[index + 1].hasPrefix("-"), Double(arguments[index + 1]) != nil {
                result.append(argument + "=" + arguments[index + 1])
                index += 2
            } else {
                result.append(argument)
                index += 1
            }
        }
        return result
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
