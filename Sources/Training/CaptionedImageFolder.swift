// A folder of PNG/JPEG images with optional captions (metadata.jsonl, captions.tsv or NAME.txt).
import FileIO
import Foundation
import Imaging
import TensorCore

public struct CaptionedImageFolder {
    public struct Item {
        public let file: String
        public let caption: String
        /// [3, R, R] in [-1, 1]
        public let pixels: [Float]
    }

    public let directory: URL
    public let resolution: Int
    public private(set) var items: [Item] = []
    /// Files that could not be read, with the reason (reported, then skipped).
    public private(set) var skipped: [(file: String, reason: String)] = []

    public var count: Int { items.count }
    public var isUnconditional: Bool { items.allSatisfy { $0.caption.isEmpty } }

    /// Loads every image, resized to cover `resolution` and centre-cropped to a square.
    public init(directory: URL, resolution: Int, progress: (Int, Int) -> Void = { _, _ in }) throws {
        self.directory = directory
        self.resolution = resolution
        guard resolution > 0 else { throw DatasetError.invalid("resolution must be positive, got \(resolution)") }
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError.invalid("\(directory.path): no such folder")
        }
        let names = try fileManager.contentsOfDirectory(atPath: directory.path).sorted()
        let imageNames = names.filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }
        let captions = try Self.readCaptions(in: directory, names: Set(names))
        for (index, name) in imageNames.enumerated() {
            progress(index + 1, imageNames.count)
            do {
                var image = try Image.load(from: directory.appendingPathComponent(name))
                if image.width != resolution || image.height != resolution {
                    image = try image.resizedToFill(width: resolution, height: resolution)
                }
                items.append(Item(file: name, caption: captions[name] ?? "", pixels: image.floatPlanes()))
            } catch {
                skipped.append((name, "\(error)"))
            }
        }
        guard !items.isEmpty else {
            throw DatasetError.invalid("\(directory.path): no usable image (\(imageNames.count) image files, \(skipped.count) unreadable)")
        }
        try checkCaptionNames(captions, images: Set(imageNames))
    }

    /// Captions that name no image of the folder: all of them is an error (training would be
    /// unconditional without a word), some of them are reported with the skipped files.
    mutating func checkCaptionNames(_ captions: [String: String], images: Set<String>) throws {
        let orphans = captions.keys.filter { !images.contains($0) }.sorted()
        guard !orphans.isEmpty else { return }
        let source = ["metadata.jsonl", "captions.tsv"].first { FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) }
            ?? "the caption files"
        guard orphans.count < captions.count else {
            throw DatasetError.invalid("\(directory.appendingPathComponent(source).path): none of its \(captions.count) captions names "
                                       + "an image of the folder (first: \(orphans[0])); captions are matched by exact file name")
        }
        for name in orphans { skipped.append((name, "captioned in \(source) but not an image in the folder")) }
    }

    /// Captions by file name, from the first source present: metadata.jsonl, captions.tsv, NAME.txt.
    static func readCaptions(in directory: URL, names: Set<String>) throws -> [String: String] {
        var captions: [String: String] = [:]
        if names.contains("metadata.jsonl") {
            let url = directory.appendingPathComponent("metadata.jsonl")
            let text = try InputFile.readText(url)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let file = object["file_name"] as? String else {
                    throw DatasetError.invalid("\(url.path):\(number + 1): expected {\"file_name\": ..., \"text\": ...}")
                }
                captions[file] = (object["text"] as? String) ?? ""
            }
        } else if names.contains("captions.tsv") {
            let url = directory.appendingPathComponent("captions.tsv")
            let text = try InputFile.readText(url)
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                let fields = line.split(separator: "\t", maxSplits: 1).map(String.init)
                guard fields.count == 2 else { continue }
                if fields[0] == "file" && fields[1] == "caption" { continue }  // header
                captions[fields[0]] = fields[1].trimmingCharacters(in: .whitespacesAndNewlines)
            }
        } else {
            for name in names where (name as NSString).pathExtension == "txt" {
                let stem = (name as NSString).deletingPathExtension
                let text = try InputFile.readText(directory.appendingPathComponent(name))
                for ext in ["png", "jpg", "jpeg", "PNG", "JPG", "JPEG"] where names.contains("\(stem).\(ext)") {
                    captions["\(stem).\(ext)"] = text.trimmingCharacters(in: .whitespacesAndNewlines)
                }
            }
        }
        return captions
    }

    /// A batch [B, 3, R, R] of the given items, horizontally flipped where `flip` says.
    public func batch(_ indices: [Int], flip: [Bool]) throws -> Tensor {
        let r = resolution, plane = r * r
        let result = Tensor(uninitializedShape: [indices.count, 3, r, r])
        for (b, index) in indices.enumerated() {
            let source = items[index].pixels
            let base = result.pointer + b * 3 * plane
            source.withUnsafeBufferPointer { src in
                if flip.count > b && flip[b] {
                    for c in 0..<3 { for y in 0..<r { for x in 0..<r { base[c * plane + y * r + x] = src[c * plane + y * r + (r - 1 - x)] } } }
                } else {
                    base.update(from: src.baseAddress!, count: 3 * plane)
                }
            }
        }
        return result
    }
}

public enum DatasetError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let s): return s }
    }
}
