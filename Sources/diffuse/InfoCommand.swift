// `diffuse info`: describes an image file or a diffusers model folder.
import ArgumentParser
import Foundation

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show what a PNG/JPEG file holds (format, size, colour type, text chunks, pixel hash) "
            + "or what a model folder holds (components, parameter counts, dtypes, key config values)."
    )

    @Argument(help: "The image file or model folder to describe.")
    var path: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        do {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                let report = try Self.modelFolderReport(path: path)
                print(json ? try report.json() : report.text())
            } else if Self.isWeightsFile(path) {
                let report = try Self.safetensorsFileReport(path: path)
                print(json ? try report.json() : report.text())
            } else {
                let report = try Self.imageFileReport(path: path)
                print(json ? try report.json() : report.text())
            }
        } catch let error as CommandFailure {
            FileHandle.standardError.write(Data("error: \(error.message.terminalSafe)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// A failure already phrased for the user as "<file>: <reason>".
struct CommandFailure: Error {
    var message: String
}
