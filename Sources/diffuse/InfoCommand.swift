// `diffuse info`: describes an image file (and, later, a model directory).
import ArgumentParser
import Foundation

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show what a PNG or JPEG file holds: format, size, colour type, text chunks, pixel hash."
    )

    @Argument(help: "The file to describe.")
    var path: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        do {
            // Model directories will get their own branch here; files are images.
            let report = try Self.imageFileReport(path: path)
            print(json ? try report.json() : report.text())
        } catch let error as CommandFailure {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// A failure already phrased for the user as "<file>: <reason>".
struct CommandFailure: Error {
    var message: String
}
