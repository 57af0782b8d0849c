// Loads the diffusers-tiny scheduler references (schedulers.safetensors + schedulers.json).
import Foundation
import XCTest
import TensorCore
import TestSupport
@testable import Schedulers

/// The reference file pair and helpers to build schedulers the way the reference script did.
final class SchedulerFixture {
    static let shared: Result<SchedulerFixture, Error> = Result { try SchedulerFixture() }

    let tensors: SafetensorsFile
    let json: [String: Any]
    let runs: [String: [String: Any]]

    init() throws {
        let dir = "fixtures/diffusers-tiny/reference/"
        tensors = try SafetensorsFile(contentsOf: try SharedData.url(dir + "schedulers.safetensors"))
        let data = try Data(contentsOf: try SharedData.url(dir + "schedulers.json"))
        // Python's json writes -Infinity bare; quote it so JSONSerialization accepts the file.
        let object = try JSONSerialization.jsonObject(with: SchedulerConfig.quotingNonFiniteNumbers(data))
        json = object as? [String: Any] ?? [:]
        runs = json["runs"] as? [String: [String: Any]] ?? [:]
    }

    static func get() throws -> SchedulerFixture { try shared.get() }

    func floats(_ name: String) throws -> [Float] { try tensors.floats(name) }

    /// `Class.from_config(SD1_SCHEDULER_CONFIG, **overrides)` as a SchedulerConfig.
    func config(overrides: [String: Any] = [:], base: String = "sd1_scheduler_config") throws -> SchedulerConfig {
        var dict = json[base] as? [String: Any] ?? [:]
        for (k, v) in overrides { dict[k] = v }
        return try SchedulerConfig.decode(try JSONSerialization.data(withJSONObject: dict))
    }
}

/// max |a - b| <= 1e-5 * max(1, max |ref|) (the README's bar for scheduler outputs).
func assertClose(_ actual: [Float], _ reference: [Float], _ what: String, relative: Float = 1e-5,
                 file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == reference.count else {
        XCTFail("\(what): \(actual.count) values, reference has \(reference.count)", file: file, line: line)
        return
    }
    var maxDiff: Float = 0, maxRef: Float = 0
    for (a, r) in zip(actual, reference) {
        let d = abs(a - r)
        if !(d <= maxDiff) { maxDiff = d.isNaN ? .infinity : d }
        maxRef = max(maxRef, abs(r))
    }
    let bound = relative * max(1, maxRef)
    XCTAssertLessThanOrEqual(maxDiff, bound, "\(what): max abs error \(maxDiff) (max |ref| \(maxRef))", file: file, line: line)
}
