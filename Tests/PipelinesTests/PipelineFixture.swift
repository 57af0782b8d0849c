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
        let model = try StableDiffusion.load(directory: try SharedData.url("fixtures/diffusers-tiny"))
        cached = model
        return model
    }

    static func reference(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(contentsOf: try SharedData.url("fixtures/diffusers-tiny/reference/\(name)"))
    }

    static func tensor(_ file: SafetensorsFile, _ name: String) throws -> Tensor {
        try Tensor(shape: file.shape(name), values: file.floats(name))
    }
}

/// Asserts equal shapes and max |a − b| ≤ `relative` · max(1, max|expected|) + `absolute`.
func assertClose(_ actual: Tensor, _ expected: Tensor, relative: Float = 0, absolute: Float = 0, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let a = actual.values, e = expected.values
    let scale = max(1, e.map(abs).max() ?? 0)
    var worst: Float = 0
    for i in 0..<a.count { worst = max(worst, abs(a[i] - e[i])) }
    XCTAssertFalse(worst.isNaN, "\(what): NaN", file: file, line: line)
    let tolerance = relative * scale + absolute
    XCTAssertLessThanOrEqual(worst, tolerance, "\(what): max abs error \(worst) > \(tolerance)", file: file, line: line)
}

extension Tensor {
    /// Entry `index` of the first axis ([L, …] → […]).
    func entry(_ index: Int) throws -> Tensor {
        let inner = Array(shape.dropFirst())
        let size = inner.reduce(1, *)
        return try Tensor(shape: inner, values: Array(values[index * size ..< (index + 1) * size]))
    }
}
