// Shared access to the single-file checkpoint fixtures (../shared/fixtures/single-file) and tampered copies.
import Foundation
import Models
import TensorCore
import TestSupport

enum SingleFileFixture {
    static func file(_ name: String) throws -> URL { try SharedData.url("fixtures/single-file/\(name).safetensors") }
    static func folder(_ name: String) throws -> URL { try SharedData.url("fixtures/single-file/\(name)") }

    static func checkpoint(_ name: String) throws -> SingleFileCheckpoint { try SingleFileCheckpoint(url: file(name)) }
    static func configs(_ name: String) throws -> SingleFileCheckpoint.Configs {
        try SingleFileCheckpoint.readConfigs(folder: folder(name))
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-single-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A copy of `source` without `removed`, with `added` tensors, and `reshaped` keys given a new shape.
    static func tampered(_ source: SafetensorsFile, removing removed: Set<String> = [], adding added: [String: [Float]] = [:],
                         reshaping reshaped: [String: [Int]] = [:], to url: URL) throws -> URL {
        var items: [SafetensorsStreamWriter.Item] = []
        for name in source.names where !removed.contains(name) {
            if let shape = reshaped[name] {
                let count = shape.reduce(1, *)
                items.append(.init(name: name, dtype: .f32, shape: shape) { [Float](repeating: 0, count: count).withUnsafeBytes { [UInt8]($0) } })
            } else {
                items.append(.init(name: name, dtype: try source.dtype(name), shape: try source.shape(name)) { try source.bytes(name) })
            }
        }
        for (name, values) in added {
            items.append(.init(name: name, dtype: .f32, shape: [values.count]) { values.withUnsafeBytes { [UInt8]($0) } })
        }
        try SafetensorsStreamWriter.write(items, to: url)
        return url
    }
}
