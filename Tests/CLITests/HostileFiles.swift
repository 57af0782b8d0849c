// Small hostile files for the CLI tests: latents of any shape, a tiny PNG, a weight or a
// checkpoint's metadata edited in place (rewritten through the project's safetensors code).
import Foundation
import Imaging
import TensorCore

/// One float32 tensor of a constant value.
struct SafetensorsFileWriter {
    private var writer = SafetensorsWriter()

    mutating func add(_ name: String, shape: [Int], value: Float) throws {
        try writer.add(name, shape: shape, floats: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    func write(to url: URL, metadata: [String: String]) throws { try writer.write(to: url, metadata: metadata) }
}

extension CLIFixture {
    /// A gray RGB PNG of the given size.
    static func writeRGBPNG(width: Int, height: Int, to path: String) throws {
        try Image(width: width, height: height, channels: 3, color: [128, 64, 32]).writePNG(to: URL(fileURLWithPath: path))
    }

    /// Rewrites a safetensors file with `edit` applied to its tensors and metadata.
    static func rewrite(_ url: URL, _ edit: (inout [String: [Float]], inout [String: String]) throws -> Void) throws {
        let file = try SafetensorsFile(contentsOf: url)
        var floats: [String: [Float]] = [:], integers: [String: [Int64]] = [:], shapes: [String: [Int]] = [:]
        for name in file.names {
            shapes[name] = try file.shape(name)
            if try file.dtype(name) == .i64 { integers[name] = try file.int64s(name) } else { floats[name] = try file.floats(name) }
        }
        var metadata = file.metadata
        try edit(&floats, &metadata)
        var writer = SafetensorsWriter()
        for name in file.names {
            if let values = integers[name] { try writer.add(name, shape: shapes[name]!, int64s: values) }
            if let values = floats[name] { try writer.add(name, shape: shapes[name]!, floats: values) }
        }
        try writer.write(to: url, metadata: metadata)
    }

    /// Sets the first value of tensor `name` to `value`.
    static func poke(_ value: Float, intoTensor name: String, of url: URL) throws {
        try rewrite(url) { tensors, _ in tensors[name]?[0] = value }
    }

    /// Replaces each match of `pattern` in the text stored under metadata `key` (text, not a JSON
    /// round trip: 64-bit integers in a training state would not survive JSONSerialization).
    static func editMetadata(_ url: URL, _ key: String, replacing pattern: String, with template: String) throws {
        try rewrite(url) { _, metadata in
            let text = metadata[key] ?? ""
            let regex = try NSRegularExpression(pattern: pattern)
            metadata[key] = regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
        }
    }
}
