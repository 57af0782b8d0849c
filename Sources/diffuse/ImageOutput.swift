// Writing results: PNGs with generation parameters in text chunks, numbered files plus a grid.
import ArgumentParser
import Foundation
import Imaging
import Pipelines
import TensorCore

enum ImageOutput {
    /// Writes one image to `path`, or for several `name-1.png`, … and a grid at `path`
    /// (`grid` when given, else a plain square grid).
    static func write(_ images: [Image], to path: String, parameters: [(String, String)], grid: Image? = nil) throws {
        let url = URL(fileURLWithPath: path)
        let chunks = parameters.map { TextChunk(key: $0.0, value: $0.1) }
        if images.count == 1 {
            try images[0].writePNG(to: url, textChunks: chunks)
            return
        }
        let base = url.deletingPathExtension().path
        for (i, image) in images.enumerated() {
            try image.writePNG(to: URL(fileURLWithPath: "\(base)-\(i + 1).png"), textChunks: chunks)
        }
        let columns = Int(Double(images.count).squareRoot().rounded(.up))
        try (grid ?? Image.grid(images, columns: columns, padding: 2)).writePNG(to: url, textChunks: chunks)
    }

    /// Saves tensors as safetensors (atomically).
    static func writeTensors(_ tensors: [String: Tensor], to path: String, metadata: [String: String] = [:]) throws {
        var writer = SafetensorsWriter()
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            try writer.add(name, shape: tensor.shape, floats: tensor.values)
        }
        try writer.write(to: URL(fileURLWithPath: path), metadata: metadata)
    }

    /// Reads the named tensor of a safetensors file.
    static func readTensor(_ name: String, from path: String) throws -> Tensor {
        let file = try SafetensorsFile(contentsOf: URL(fileURLWithPath: path))
        guard file.contains(name) else { throw CommandFailure(message: "\(path): no tensor named '\(name)' (has: \(file.names.joined(separator: ", ")))") }
        return try Tensor(shape: file.shape(name), values: file.floats(name))
    }
}

/// Fails when two output flags name the same file (the later write would silently replace the
/// earlier one); paths are compared after resolving `.`, `..` and links.
func requireDistinctPaths(_ outputs: [(flag: String, path: String?)]) throws {
    var seen: [String: String] = [:]
    for (flag, path) in outputs {
        guard let path else { continue }
        let resolved = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        if let earlier = seen[resolved] { throw ValidationError("\(earlier) and \(flag) both name \(path)") }
        seen[resolved] = flag
    }
}
