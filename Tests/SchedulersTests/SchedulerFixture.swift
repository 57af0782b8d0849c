// Loads the diffusers-tiny scheduler references (schedulers.safetensors + schedulers.json).
import Foundation
import XCTest
@testable import TensorCore
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
        let object = try JSONSerialization.jsonObject(with: ConfigFile.quotingNonFiniteNumbers(data))
        json = object as? [String: Any] ?? [:]
        runs = json["runs"] as? [String: [String: Any]] ?? [:]
    }

    static func get() throws -> SchedulerFixture { try shared.get() }

    func floats(_ name: String) throws -> [Float] { try tensors.floats(name) }

    /// A reference tensor with its stored shape.
    func tensor(_ name: String) throws -> Tensor {
        try Tensor(shape: try tensors.shape(name), values: try tensors.floats(name))
    }

    /// The rows of a reference tensor along its first axis, each keeping a leading 1
    /// ([5, 4, 8, 8] → five [1, 4, 8, 8]).
    func rows(_ name: String) throws -> [Tensor] {
        let all = try tensor(name)
        return (0..<all.shape[0]).map { all.slice(axis: 0, start: $0, length: 1) }
    }

    /// `Class.from_config(SD1_SCHEDULER_CONFIG, **overrides)` as a SchedulerConfig.
    func config(overrides: [String: Any] = [:], base: String = "sd1_scheduler_config") throws -> SchedulerConfig {
        var dict = json[base] as? [String: Any] ?? [:]
        for (k, v) in overrides { dict[k] = v }
        return try SchedulerConfig.decode(try JSONSerialization.data(withJSONObject: dict))
    }
}

extension Array where Element == Tensor {
    /// All values, in order (a trajectory as one flat array).
    var flatValues: [Float] { flatMap(\.values) }
}
