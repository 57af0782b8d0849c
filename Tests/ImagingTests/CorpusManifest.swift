// Reads the corpora's MANIFEST.tsv files (file, expected outcome, IHDR facts, rgba8_sha256).
import Foundation
import TestSupport

struct CorpusEntry {
    var file: String
    var expected: String
    var width: String
    var height: String
    var colorType: String
    var bitDepth: String
    var sha256: String
    var notes: String
    var url: URL
}

enum CorpusManifest {
    /// Every row of `<folder>/MANIFEST.tsv` under ../shared.
    static func entries(_ folder: String) throws -> [CorpusEntry] {
        let manifest = try SharedData.url("\(folder)/MANIFEST.tsv")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let header = lines.removeFirst().split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        func column(_ name: String) throws -> Int {
            guard let index = header.firstIndex(of: name) else { throw MissingColumn(name: name, manifest: manifest.path) }
            return index
        }
        let file = try column("file"), expected = try column("expected"), width = try column("width")
        let height = try column("height"), colorType = try column("color_type"), bitDepth = try column("bit_depth")
        let sha = try column("rgba8_sha256"), notes = try column("notes")
        return try lines.map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= header.count - 1 else { throw MissingColumn(name: "row \(line)", manifest: manifest.path) }
            func field(_ index: Int) -> String { index < fields.count ? fields[index] : "" }
            return CorpusEntry(file: field(file), expected: field(expected), width: field(width), height: field(height),
                               colorType: field(colorType), bitDepth: field(bitDepth), sha256: field(sha),
                               notes: field(notes), url: try SharedData.url("\(folder)/\(field(file))"))
        }
    }
}

struct MissingColumn: Error, CustomStringConvertible {
    var name: String
    var manifest: String
    var description: String { "\(manifest): missing \(name)" }
}
