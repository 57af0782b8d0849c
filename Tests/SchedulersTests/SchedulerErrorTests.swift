// Misuse of schedulers (bad step counts, foreign timesteps, missing noise) gives typed errors.
import XCTest
@testable import Schedulers

final class SchedulerErrorTests: XCTestCase {
    func testStepCountsOutsideTheTrainingRangeAreRejected() throws {
        for name in SchedulerFactory.names {
            var scheduler = try makeScheduler(name: name, config: SchedulerConfig())
            XCTAssertThrowsError(try scheduler.setTimesteps(0), name)
            XCTAssertThrowsError(try scheduler.setTimesteps(1001), name)
        }
    }

    func testEverySchedulerRunsAOneStepLoopAndAQuickLoop() throws {
        // Noise draws are counted; none may be asked for beyond what the loop feeds in.
        for name in SchedulerFactory.names {
            for count in [1, 4] {
                var scheduler = try makeScheduler(name: name, config: SchedulerConfig())
                try scheduler.setTimesteps(count)
                var sample: [Float] = [0.5, -1, 2].map { $0 * scheduler.initNoiseSigma }
                for t in scheduler.timesteps {
                    let input = try scheduler.scaleModelInput(sample, timestep: t)
                    let out = try scheduler.step(modelOutput: input.map { 0.1 * $0 }, timestep: t, sample: sample,
                                                 noise: NoiseSource { Array(repeating: 0.3, count: $0) })
                    sample = out.prevSample
                }
                XCTAssertTrue(sample.allSatisfy(\.isFinite), "\(name) n=\(count): \(sample)")
            }
        }
    }

    func testForeignTimestepIsAnError() throws {
        var euler = try EulerDiscreteScheduler(config: SchedulerConfig())
        try euler.setTimesteps(10)
        XCTAssertThrowsError(try euler.scaleModelInput([1], timestep: 123.5)) { error in
            XCTAssertTrue("\(error)".contains("123.5"), "\(error)")
        }
        var ddpm = try DDPMScheduler(config: SchedulerConfig())
        try ddpm.setTimesteps(10)
        XCTAssertThrowsError(try ddpm.addNoise(original: [1], noise: [1], timestep: 1000))
        XCTAssertThrowsError(try ddpm.step(modelOutput: [1], timestep: 5, sample: [1], noise: .none))
    }

    func testStepBeforeSetTimestepsIsAnError() throws {
        var ddim = try DDIMScheduler(config: SchedulerConfig())
        XCTAssertThrowsError(try ddim.step(modelOutput: [1], timestep: 1, sample: [1], noise: .none)) { error in
            XCTAssertEqual(error as? SchedulerError, .timestepsNotSet(scheduler: "DDIMScheduler"))
        }
    }

    func testMissingOrMisSizedNoiseIsAnError() throws {
        var ddpm = try DDPMScheduler(config: SchedulerConfig())
        try ddpm.setTimesteps(10)
        let t = ddpm.timesteps[0]
        XCTAssertThrowsError(try ddpm.step(modelOutput: [1, 2], timestep: t, sample: [1, 2], noise: .none))
        XCTAssertThrowsError(try ddpm.step(modelOutput: [1, 2], timestep: t, sample: [1, 2], noise: .explicit([1]))) { error in
            XCTAssertTrue("\(error)".contains("expected 2"), "\(error)")
        }
        XCTAssertThrowsError(try ddpm.step(modelOutput: [1], timestep: t, sample: [1, 2], noise: .explicit([1, 2])))
    }
}
