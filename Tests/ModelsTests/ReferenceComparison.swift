// Shared helpers for model tests: fixture paths, reference tensors and tolerance checks.
import Foundation
import Models
import TensorCore
import TestSupport
import XCTest

enum Fixture {
    static func pipeline() throws -> URL { try SharedData.url("fixtures/diffusers-tiny") }
    static func component(_ name: String) throws -> URL { try SharedData.url("fixtures/diffusers-tiny/\(name)") }
    static func reference(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(contentsOf: SharedData.url("fixtures/diffusers-tiny/reference/\(name)"))
    }

    /// A fresh empty directory under the system temporary directory.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Asserts max|actual − expected| ≤ relative·max(1, max|expected|), the fixtures' component bar.
func assertClose(_ actual: Tensor, _ expected: Tensor, relative: Float = 1e-4, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let a = actual.values, e = expected.values
    var worst: Float = 0, scale: Float = 1
    for i in 0..<a.count {
        worst = max(worst, abs(a[i] - e[i]))
        scale = max(scale, abs(e[i]))
    }
    XCTAssertFalse(worst.isNaN, "\(what): NaN", file: file, line: line)
    XCTAssertLessThanOrEqual(worst, relative * scale, "\(what): max abs error \(worst), bar \(relative * scale)", file: file, line: line)
}

/// Every parameter of `a` equals the same-named parameter of `b` bit for bit.
func assertSameParameters(_ a: Module, _ b: Module, file: StaticString = #filePath, line: UInt = #line) {
    let pa = a.namedParameters(), pb = b.namedParameters()
    XCTAssertEqual(pa.map(\.key), pb.map(\.key), file: file, line: line)
    for (x, y) in zip(pa, pb) {
        let same = x.parameter.value.values.map(\.bitPattern) == y.parameter.value.values.map(\.bitPattern)
        XCTAssertTrue(same, "parameter \(x.key) differs", file: file, line: line)
    }
}
