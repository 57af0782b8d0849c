// EulerDiscreteScheduler with Karras sigmas (the shipped model's sampler) against diffusers 0.39.0.
import XCTest
@testable import Schedulers

/// The reference values come from diffusers 0.39.0:
/// ```python
/// s = EulerDiscreteScheduler.from_config(cfg)   # cfg: models/emoji's scheduler_config.json
/// s.set_timesteps(10); s.timesteps, s.sigmas, s.init_noise_sigma
/// ```
/// with `timestep_spacing` "leading" (as shipped, steps_offset 1) and "trailing".
final class EulerKarrasTests: XCTestCase {
    func emojiConfig(spacing: TimestepSpacing) -> SchedulerConfig {
        SchedulerConfig().setting({
            $0.betaSchedule = .scaledLinear; $0.betaStart = 0.00085; $0.betaEnd = 0.012
            $0.timestepSpacing = spacing; $0.stepsOffset = 1; $0.useKarrasSigmas = true
        }, keys: ["beta_schedule", "beta_start", "beta_end", "timestep_spacing", "steps_offset", "use_karras_sigmas"])
    }

    func check(_ spacing: TimestepSpacing, timesteps: [Double], sigmas: [Float], initNoiseSigma: Float,
               file: StaticString = #filePath, line: UInt = #line) throws {
        var euler = try EulerDiscreteScheduler(config: emojiConfig(spacing: spacing))
        try euler.setTimesteps(10)
        XCTAssertEqual(euler.timesteps.count, timesteps.count, file: file, line: line)
        for (ours, theirs) in zip(euler.timesteps, timesteps) {
            XCTAssertEqual(ours, theirs, accuracy: 1e-3 * max(1, theirs), "timestep", file: file, line: line)
        }
        let table = try XCTUnwrap(euler.sigmas)
        XCTAssertEqual(table.count, sigmas.count, file: file, line: line)
        for (ours, theirs) in zip(table, sigmas) {
            XCTAssertEqual(ours, theirs, accuracy: 1e-5 * max(1, theirs), "sigma", file: file, line: line)
        }
        XCTAssertEqual(euler.initNoiseSigma, initNoiseSigma, accuracy: 1e-5 * initNoiseSigma, file: file, line: line)
    }

    /// Leading spacing bounds the Karras ramp by the sigmas at t = 901 and t = 1, not the training extremes.
    func testLeadingSpacingMatchesDiffusers() throws {
        try check(.leading,
                  timesteps: [901.0, 815.0175170898438, 710.50048828125, 581.6551513671875, 426.5304260253906,
                              260.2430114746094, 121.14097595214844, 40.272430419921875, 9.30146598815918, 1.0000001192092896],
                  sigmas: [8.390686988830566, 5.477698802947998, 3.478407144546509, 2.1403043270111084, 1.2701091766357422,
                           0.7226703763008118, 0.3913528323173523, 0.19980022311210632, 0.09496716409921646,
                           0.04131447896361351, 0.0],
                  initNoiseSigma: 8.450066566467285)
    }

    func testTrailingSpacingMatchesDiffusers() throws {
        try check(.trailing,
                  timesteps: [999.0, 942.2802124023438, 877.3060302734375, 801.6966552734375, 712.3043823242188,
                              605.5546264648438, 479.5079345703125, 339.4757385253906, 204.078857421875, 99.0],
                  sigmas: [14.614646911621094, 10.499933242797852, 7.421022415161133, 5.150824069976807, 3.5039615631103516,
                           2.3307416439056396, 1.511731505393982, 0.9529181122779846, 0.5814136862754822,
                           0.34167441725730896, 0.0],
                  initNoiseSigma: 14.614646911621094)
    }

    /// The CLI names choose the sigma ramp whatever the folder's config says.
    func testCLINamesSetTheRamp() throws {
        let karrasFolder = emojiConfig(spacing: .leading)
        XCTAssertEqual(try makeScheduler(name: "euler", config: karrasFolder).config.useKarrasSigmas, false)
        XCTAssertEqual(try makeScheduler(name: "euler-karras", config: SchedulerConfig()).config.useKarrasSigmas, true)
        XCTAssertTrue(try makeScheduler(name: "euler-karras", config: SchedulerConfig()) is EulerDiscreteScheduler)
        let ladder = try XCTUnwrap(try makeScheduler(name: "euler-karras", config: karrasFolder) as? EulerDiscreteScheduler).ladder
        XCTAssertEqual(ladder.spacing, .karras)
    }
}
