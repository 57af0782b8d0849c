import Foundation
import XCTest
@testable import Pipelines

/// The rate and time left of the progress bar, on a simulated clock.
final class ProgressBarTests: XCTestCase {
    /// A bar in log mode (a line per report more than 30 s after the last) whose clock the
    /// test moves, and the lines it wrote.
    private final class Harness {
        var now = Date(timeIntervalSinceReferenceDate: 0)
        var lines: [String] = []
        lazy var bar = ProgressBar(total: 2500, label: "vae", enabled: true, startingAt: startingAt, interactive: false,
                                   clock: { [unowned self] in now }, write: { [unowned self] in lines.append($0) })
        let startingAt: Int
        init(startingAt: Int) { self.startingAt = startingAt }

        /// Runs `steps` steps of `seconds` each, reporting after every one.
        func run(from first: Int, steps: Int, seconds: Double) {
            _ = bar
            for step in first..<(first + steps) {
                now += seconds
                bar.update(step + 1)
            }
        }
    }

    func testResumedRunDoesNotCountEarlierStepsAsInstant() throws {
        // Resumed at step 700, two seconds a step: the first line must say 2 s/it and the
        // remaining 1799 steps' time, not treat the 700 resumed steps as done in no time.
        let harness = Harness(startingAt: 700)
        harness.run(from: 700, steps: 17, seconds: 2)
        XCTAssertEqual(harness.lines.count, 2)  // at the first step, then 32 s later
        let line = try XCTUnwrap(harness.lines.last)
        XCTAssertTrue(line.contains("717/2500 2.00 s/it 0:34 elapsed, 59:26 left"), line)  // 1783 × 2 s
    }

    func testSlowFirstStepFadesByTheNextLogLine() throws {
        // A 60-s first step (loading, first allocations), then 0.5 s a step: the lines after
        // the first must show the steady rate (2 it/s) within 5 %.
        let harness = Harness(startingAt: 0)
        harness.run(from: 0, steps: 1, seconds: 60)
        harness.run(from: 1, steps: 240, seconds: 0.5)
        XCTAssertGreaterThanOrEqual(harness.lines.count, 4)
        let line = try XCTUnwrap(harness.lines.last)
        let words = line.split(separator: " ")
        let rate = try XCTUnwrap(words.firstIndex(of: "it/s").map { Double(words[$0 - 1]) } ?? nil, line)
        XCTAssertEqual(rate, 2, accuracy: 0.1, line)
    }

    func testFinalLineAlwaysDrawn() {
        let harness = Harness(startingAt: 0)
        harness.bar.update(2500)
        XCTAssertEqual(harness.lines.count, 1)
        XCTAssertTrue(harness.lines[0].hasPrefix("vae ████████████████████████ 2500/2500"), harness.lines[0])
    }
}
