// The one closeness assertion of the test suite: max |actual − expected| within a stated bound.
import TensorCore
import XCTest

/// The largest |a − e| (infinity when any pair is NaN or the counts differ).
public func maxAbsDifference(_ actual: [Float], _ expected: [Float]) -> Float {
    guard actual.count == expected.count else { return .infinity }
    var worst: Float = 0
    for (a, e) in zip(actual, expected) {
        let d = abs(a - e)
        if !(d <= worst) { worst = d.isNaN ? .infinity : d }
    }
    return worst
}

/// The mean |a − e| (infinity when the counts differ; 0 for none).
public func meanAbsDifference(_ actual: [Float], _ expected: [Float]) -> Float {
    guard actual.count == expected.count else { return .infinity }
    return zip(actual, expected).reduce(0) { $0 + abs($1.0 - $1.1) } / Float(max(1, expected.count))
}

/// Asserts max |actual − expected| ≤ `relative` · max(1, max |expected|) + `absolute`, and no NaN.
/// `relative` scales with the reference's magnitude (fixtures in diffusers' units); `absolute`
/// is for values near zero.
public func assertClose(_ actual: [Float], _ expected: [Float], relative: Float = 0, absolute: Float = 0,
                        _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        XCTFail("\(what): \(actual.count) values, expected \(expected.count)", file: file, line: line)
        return
    }
    let scale = max(1, expected.map(abs).max() ?? 0)
    let worst = maxAbsDifference(actual, expected)
    let bound = relative * scale + absolute
    XCTAssertLessThanOrEqual(worst, bound, "\(what): max abs error \(worst) > \(bound) (max |expected| \(scale))",
                             file: file, line: line)
}

/// The same for tensors, which must also have the same shape.
public func assertClose(_ actual: Tensor, _ expected: Tensor, relative: Float = 0, absolute: Float = 0,
                        _ what: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    assertClose(actual.values, expected.values, relative: relative, absolute: absolute, what, file: file, line: line)
}
