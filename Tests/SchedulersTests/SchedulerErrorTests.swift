// Misuse of schedulers (bad step counts, foreign timesteps, missing noise) gives typed errors.
import XCTest
import TensorCore
@testable import Schedulers

final class SchedulerErrorTests: XCTestCase {
    func one(_ values: [Float]) throws -> Tensor { try Tensor(shape: [values.count], values: values) }

    func testStepCountsOutsideTheTrainingRangeAreRejected() throws {
        for name in SamplerName.allCases {
            var scheduler = try name.make(config: SchedulerConfig())
            XCTAssertThrowsError(try scheduler.setTimesteps(0), name.rawValue)
            XCTAssertThrowsError(try scheduler.setTimesteps(1001), name.rawValue)
        }
    }

    func testForeignTimestepIsAnError() throws {
        var euler = try EulerDiscreteScheduler(config: SchedulerConfig())
        try euler.setTimesteps(10)
        XCTAssertThrowsError(try euler.scaleModelInput(try one([1]), timestep: 123.5)) { error in
            XCTAssertTrue("\(error)".contains("123.5"), "\(error)")
        }
        var ddpm = try DDPMScheduler(config: SchedulerConfig())
        try ddpm.setTimesteps(10)
        XCTAssertThrowsError(try ddpm.addNoise(original: try one([1]), noise: try one([1]), timestep: 1000))
        XCTAssertThrowsError(try ddpm.step(modelOutput: try one([1]), timestep: 5, sample: try one([1]), noise: .none))
    }

    func testStepBeforeSetTimestepsIsAnError() throws {
        var ddim = try DDIMScheduler(config: SchedulerConfig())
        XCTAssertThrowsError(try ddim.step(modelOutput: try one([1]), timestep: 1, sample: try one([1]), noise: .none)) { error in
            XCTAssertEqual(error as? SchedulerError, .timestepsNotSet(scheduler: "DDIMScheduler"))
        }
        var dpm = try DPMSolverMultistepScheduler(config: SchedulerConfig())
        XCTAssertThrowsError(try dpm.step(modelOutput: try one([1]), timestep: 999, sample: try one([1]), noise: .none)) { error in
            XCTAssertEqual(error as? SchedulerError, .timestepsNotSet(scheduler: "DPMSolverMultistepScheduler"))
        }
    }

    func testMissingOrMisShapedNoiseIsAnError() throws {
        var ddpm = try DDPMScheduler(config: SchedulerConfig())
        try ddpm.setTimesteps(10)
        let t = ddpm.timesteps[0]
        let pair = try one([1, 2])
        XCTAssertThrowsError(try ddpm.step(modelOutput: pair, timestep: t, sample: pair, noise: .none))
        XCTAssertThrowsError(try ddpm.step(modelOutput: pair, timestep: t, sample: pair, noise: .explicit(try one([1])))) { error in
            XCTAssertTrue("\(error)".contains("expected [2]"), "\(error)")
        }
        XCTAssertThrowsError(try ddpm.step(modelOutput: try one([1]), timestep: t, sample: pair, noise: .explicit(pair)))
        XCTAssertThrowsError(try ddpm.addNoise(original: pair, noise: try one([1]), timestep: t))
    }
}
