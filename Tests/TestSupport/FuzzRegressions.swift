// The inputs that once crashed a fuzz target (Tests/FuzzRegressions/TARGET/), replayed by each module's tests.
import Foundation

public enum FuzzRegressions {
    /// Every kept input of one fuzz target; none at all is a failure (the folder moved or was lost).
    public static func inputs(_ target: String) throws -> [(name: String, bytes: Data)] {
        let folder = SharedData.repositoryRoot.appendingPathComponent("Tests/FuzzRegressions/\(target)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
        guard !names.isEmpty else { throw MissingSharedData(path: folder.path) }
        return try names.map { ($0, try Data(contentsOf: folder.appendingPathComponent($0))) }
    }
}
