// Locates ../shared beside the repository; tests that need it fail loudly without it.
import Foundation

public enum SharedData {
    /// The repository root, found from this file's location (works in any clone or worktree).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared` beside the repository. Missing data is a failure, never a skip.
    public static func directory() throws -> URL {
        let url = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MissingSharedData(path: url.path)
        }
        return url
    }

    /// A path inside `../shared`, which must exist.
    public static func url(_ relativePath: String) throws -> URL {
        let url = try directory().appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else { throw MissingSharedData(path: url.path) }
        return url
    }
}

public struct MissingSharedData: Error, CustomStringConvertible {
    public let path: String
    public var description: String { "required test data is missing: \(path) (the tests read ../shared beside the repository)" }
}
