// Finds the model folder (--model, $DIFFUSE_MODEL, then models/emoji found as an installed resource)
// and the other data files commands need.
import FileIO
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
        if let found = InstalledResources.locate(defaultRelativePath, where: isModel) { return found }
        throw CommandFailure(message: "no model found: pass --model DIR, set DIFFUSE_MODEL, or install with scripts/install.sh "
                             + "(looked for \(defaultRelativePath) here, beside \(InstalledResources.executableURL.path) and above it, and in share/diffuse)")
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
    /// A folder shipped with the repository (e.g. models/clip-tokenizer), found under the current
    /// folder, beside the executable or above it, or in an install's share/diffuse.
    static func resolveResource(_ relativePath: String) throws -> URL {
        guard let found = InstalledResources.locate(relativePath) else {
            throw CommandFailure(message: "\(relativePath) not found: looked under the current folder, beside "
                                 + "\(InstalledResources.executableURL.path) and above it, and in share/diffuse "
                                 + "(install with scripts/install.sh PREFIX)")
        }
        return found
    }
}
