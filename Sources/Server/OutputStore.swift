// The output folder: images written atomically, served by name only, and listed with their settings.
import Foundation
import Imaging

final class OutputStore: @unchecked Sendable {
    let directory: URL
    private let lock = NSLock()
    /// Text chunks per file name, with the modification time they were read at.
    private var cache: [String: (modified: Date, chunks: [String: String], width: Int, height: Int)] = [:]

    init(directory: URL) throws {
        self.directory = directory.standardizedFileURL
        do {
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        } catch {
            throw APIError(.internalServerError, "cannot create the output folder \(directory.path): \(error)")
        }
    }

    /// Writes a PNG to a temporary name and renames it into place, so no reader sees half a file.
    func write(_ image: Image, name: String, parameters: [(String, String)]) throws -> OutputImage {
        let png = try image.pngData(textChunks: parameters.map { TextChunk(key: $0.0, value: $0.1) })
        try AtomicFile.write(png, to: directory.appendingPathComponent(name))
        return OutputImage(name: name, png: png, width: image.width, height: image.height)
    }

    /// The file a request names, or nil for anything but a plain PNG name inside the folder:
    /// no separators, no `..`, no hidden or temporary files, whatever the encoding.
    func file(named raw: String) -> URL? {
        guard let name = raw.removingPercentEncoding, name == name.removingPercentEncoding ?? "" else { return nil }
        guard Self.isPlainName(name) else { return nil }
        let url = directory.appendingPathComponent(name).standardizedFileURL
        guard url.deletingLastPathComponent().path == directory.path else { return nil }
        let resolved = url.resolvingSymlinksInPath()
        guard resolved.deletingLastPathComponent().path == directory.resolvingSymlinksInPath().path else { return nil }
        return url
    }

    static func isPlainName(_ name: String) -> Bool {
        guard (1...200).contains(name.count), name.hasSuffix(".png"), !name.hasPrefix("."), !name.contains("..") else { return false }
        return name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }
    }

    /// The newest images first, each with its PNG text chunks (views such as trajectories left out).
    func history(limit: Int) -> [[String: Any]] {
        let keys: [URLResourceKey] = [.contentModificationDateKey, .isRegularFileKey]
        let files = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: keys)) ?? []
        var entries: [(name: String, modified: Date)] = []
        for file in files where Self.isPlainName(file.lastPathComponent) {
            let values = try? file.resourceValues(forKeys: Set(keys))
            guard values?.isRegularFile == true else { continue }
            entries.append((file.lastPathComponent, values?.contentModificationDate ?? .distantPast))
        }
        entries.sort { $0.modified != $1.modified ? $0.modified > $1.modified : $0.name > $1.name }
        var result: [[String: Any]] = []
        for entry in entries {
            guard result.count < limit, let info = metadata(entry.name, modified: entry.modified) else { continue }
            guard info.chunks["view"] == nil else { continue }
            result.append(["name": entry.name, "url": "/outputs/\(entry.name)", "modified": entry.modified.timeIntervalSince1970,
                           "width": info.width, "height": info.height, "parameters": info.chunks])
        }
        return result
    }

    private func metadata(_ name: String, modified: Date) -> (modified: Date, chunks: [String: String], width: Int, height: Int)? {
        lock.lock()
        if let cached = cache[name], cached.modified == modified { lock.unlock(); return cached }
        lock.unlock()
        let decoder = ImageDecoder(maxPixels: 4096 * 4096, maxFileBytes: 64 << 20)
        guard let decoded = try? decoder.decode(contentsOf: directory.appendingPathComponent(name)) else { return nil }
        var chunks: [String: String] = [:]
        for chunk in decoded.metadata.textChunks { chunks[chunk.key] = chunk.value }
        let entry = (modified, chunks, decoded.image.width, decoded.image.height)
        lock.lock()
        cache[name] = entry
        lock.unlock()
        return entry
    }
}
