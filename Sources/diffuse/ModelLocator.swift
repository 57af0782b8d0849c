// Finds the model folder: --model, $DIFFUSE_MODEL, ./models/emoji, then models/emoji beside the executable.
import Foundation

enum ModelLocator {
    static let defaultRelativePath = "models/emoji"

    /// The folder to load, in the documented order of precedence.
    static func resolve(_ explicit: String?) throws -> URL {
        let fileManager = FileManager.default
        func isModel(_ url: URL) -> Bool { fileManager.fileExists(atPath: url.appendingPathComponent("model_index.json").path) }

        if let explicit {
            let url = URL(fileURLWithPath: explicit)
            guard isModel(url) else { throw CommandFailure(message: "\(explicit): not a model folder (no model_index.json)") }
            return url
        }
        if let fromEnvironment = ProcessInfo.processInfo.environment["DIFFUSE_MODEL"], !fromEnvironment.isEmpty {
            let url = URL(fileURLWithPath: fromEnvironment)
            guard isModel(url) else { throw CommandFailure(message: "DIFFUSE_MODEL=\(fromEnvironment): not a model folder (no model_index.json)") }
            return url
        }
        var candidates = [URL(fileURLWithPath: fileManager.currentDirectoryPath).appendingPathComponent(defaultRelativePath)]
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            candidates.append(directory.appendingPathComponent(defaultRelativePath))
            directory = directory.deletingLastPathComponent()
        }
        if let found = candidates.first(where: isModel) { return found }
        throw CommandFailure(message: "no model found: pass --model DIR, set DIFFUSE_MODEL, or run from the repository (models/emoji)")
    }
}
