// Finding the data files a command needs (tokenizers, the shipped model, the studio's page)
// wherever the binary runs from: a build in the repository, a copy on PATH, an install prefix.
import Foundation

public enum InstalledResources {
    /// The running executable, from /proc/self/exe (argv[0] is a bare name when found on PATH).
    public static var executableURL: URL {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        let argument = CommandLine.arguments.first ?? "."
        return URL(fileURLWithPath: argument).resolvingSymlinksInPath()
    }

    /// Where `relativePath` (in the repository's layout, e.g. `models/clip-tokenizer`) may be, in
    /// order: under the current folder; then beside the executable and in each folder above it,
    /// directly (a build inside the repository) or under `share/diffuse` (an install: PREFIX/bin
    /// holds the binary, PREFIX/share/diffuse the data).
    public static func candidates(_ relativePath: String) -> [URL] {
        var result = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(relativePath)]
        var directory = executableURL.deletingLastPathComponent()
        while true {
            result.append(directory.appendingPathComponent(relativePath))
            result.append(directory.appendingPathComponent("share/diffuse").appendingPathComponent(relativePath))
            guard directory.path != "/", !directory.path.isEmpty else { break }
            directory = directory.deletingLastPathComponent()
        }
        var seen = Set<String>()
        return result.filter { seen.insert($0.standardizedFileURL.path).inserted }
    }

    /// The first candidate for which `isWanted` holds (by default: it exists).
    public static func locate(_ relativePath: String,
                              where isWanted: (URL) -> Bool = { FileManager.default.fileExists(atPath: $0.path) }) -> URL? {
        candidates(relativePath).first(where: isWanted)
    }
}
