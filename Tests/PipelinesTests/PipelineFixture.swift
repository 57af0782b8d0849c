// Shared access to the diffusers-tiny pipeline and its reference tensors, and tolerance checks.
import Foundation
import Pipelines
import TensorCore
import TestSupport
import XCTest

enum PipelineFixture {
    static let prompt = "a red circle on a blue background"

    /// The tiny pipeline folder, loaded once for all tests.
    private static var cached: StableDiffusion?
    static func model() throws -> StableDiffusion {
        if let cached { return cached }
        let model = try freshModel()
        cached = model
        return model
    }

    /// A pipeline of its own, for a test that changes its weights.
    static func freshModel() throws -> StableDiffusion {
        try StableDiffusion.load(directory: try SharedData.url("fixtures/diffusers-tiny"))
    }

    static func reference(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(contentsOf: try SharedData.url("fixtures/diffusers-tiny/reference/\(name)"))
    }

    static func tensor(_ file: SafetensorsFile, _ name: String) throws -> Tensor {
        try Tensor(shape: file.shape(name), values: file.floats(name))
    }
}

extension Tensor {
    /// Entry `index` of the first axis ([L, …] → […]).
    func entry(_ index: Int) throws -> Tensor {
        let inner = Array(shape.dropFirst())
        let size = inner.reduce(1, *)
        return try Tensor(shape: inner, values: Array(values[index * size ..< (index + 1) * size]))
    }
}
