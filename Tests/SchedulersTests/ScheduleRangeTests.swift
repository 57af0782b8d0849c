// A scheduler config whose training schedule would be huge or whose betas are not variances is
// an error naming the key, before anything is allocated or a NaN reaches a timestep.
import XCTest
@testable import Schedulers

final class ScheduleRangeTests: XCTestCase {
    func assertInvalid(_ edit: (inout SchedulerConfig) -> Void, field: String, file: StaticString = #filePath, line: UInt = #line) {
        var config = SchedulerConfig()
        edit(&config)
        XCTAssertThrowsError(try NoiseSchedule(config: config, scheduler: "DDPMScheduler"), file: file, line: line) { error in
            guard case .invalidValue(_, let named, _, _) = error as? SchedulerError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(named, field, "\(error)", file: file, line: line)
        }
    }

    func testOutOfRangeValuesNameTheirKey() {
        assertInvalid({ $0.numTrainTimesteps = 2_000_000_000 }, field: "num_train_timesteps")
        assertInvalid({ $0.betaStart = -5 }, field: "beta_start")
        assertInvalid({ $0.betaSchedule = .scaledLinear; $0.betaStart = -5 }, field: "beta_start")
        assertInvalid({ $0.betaEnd = .nan }, field: "beta_end")
        assertInvalid({ $0.betaEnd = 1 }, field: "beta_end")
        assertInvalid({ $0.numTrainTimesteps = 3; $0.trainedBetas = [0.1, 2, 0.3] }, field: "trained_betas")
        XCTAssertNoThrow(try NoiseSchedule(config: SchedulerConfig(), scheduler: "DDPMScheduler"), "the defaults")
    }
}
