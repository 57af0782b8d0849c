// Checkpoints whose sampler state once crashed the resumed loop (fuzz target `checkpoint`): now one clear error.
import Foundation
import TensorCore
import TestSupport
@testable import Training
import XCTest

final class CheckpointFuzzRegressionTests: XCTestCase {
    /// Each kept input is refused with a message that names the sampler's bad field.
    func testDamagedSamplerStatesAreRefused() throws {
        let inputs = try FuzzRegressions.inputs("checkpoint")
        for (name, bytes) in inputs {
            let checkpoint = try Checkpoint(file: SafetensorsFile(data: bytes, path: name))
            XCTAssertThrowsError(try checkpoint.json(TrainingState.metadataKey, as: TrainingState.self), name) { error in
                XCTAssertTrue("\(error)".contains("sampler."), "\(name): \(error)")
            }
        }
    }

    /// The checks accept what the sampler itself writes, at every position of two epochs.
    func testSamplerStatesTheLoopWritesDecode() throws {
        for repeats in [nil, [1, 3, 2]] as [[Int]?] {
            var sampler = BatchSampler(count: 3, seed: 9, repeats: repeats)
            for _ in 0..<(2 * sampler.epochLength) {
                let decoded = try JSONDecoder().decode(BatchSampler.self, from: JSONEncoder().encode(sampler))
                XCTAssertEqual(decoded, sampler)
                _ = sampler.next(1)
            }
        }
    }
}
