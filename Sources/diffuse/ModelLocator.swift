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
            if isFile(url) { return url }  // a single-file checkpoint (ModelOptions+SingleFile)
            guard isModel(url) else { throw CommandFailure(message: "\(explicit): not a model folder (no model_index.json)") }
            return url
        }
        if let fromEnvironment = ProcessInfo.processInfo.environment["DIFFUSE_MODEL"], !fromEnvironment.isEmpty {
            let url = URL(fileURLWithPath: fromEnvironment)
            if isFile(url) { return url }
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

    /// An existing regular file (not a folder).
    static func isFile(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    static func isFolder(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

extension ModelLocator {
    /// A folder shipped with the repository (e.g. models/clip-tokenizer), found under the
    /// current directory or beside the executable.
    static func resolveResource(_ relativePath: String) throws -> URL {
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relativePath)]
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" {
            candidates.append(directory.appendingPathComponent(relativePath))
            directory = directory.deletingLastPathComponent()
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw CommandFailure(message: "\(relativePath) not found under the current directory or beside the executable")
        }
        return found
    }
}
