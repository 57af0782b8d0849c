// Timestep tables for spacings the fixture does not cover, worked out by hand from diffusers' formulas.
import XCTest
@testable import Schedulers

final class TimestepTableTests: XCTestCase {
    func config(_ spacing: TimestepSpacing, offset: Int = 0) -> SchedulerConfig {
        SchedulerConfig().setting({ $0.timestepSpacing = spacing; $0.stepsOffset = offset; $0.skipPrkSteps = true },
                                  keys: ["timestep_spacing", "steps_offset", "skip_prk_steps"])
    }

    /// trailing, n = 7: round(arange(1000, 0, -1000/7)) - 1; 428.57 and 285.71 round up.
    func testTrailingWithANonDivisorCount() throws {
        var ddim = try DDIMScheduler(config: config(.trailing))
        try ddim.setTimesteps(7)
        XCTAssertEqual(ddim.timesteps, [999, 856, 713, 570, 428, 285, 142])
        var euler = try EulerDiscreteScheduler(config: config(.trailing))
        try euler.setTimesteps(7)
        XCTAssertEqual(euler.timesteps, [999, 856, 713, 570, 428, 285, 142])
    }

    /// linspace rounds half to even for DDPM/DDIM: linspace(0, 999, 3) = [0, 499.5, 999] -> 500 is even.
    func testLinspaceRoundsHalfToEven() throws {
        var ddpm = try DDPMScheduler(config: config(.linspace))
        try ddpm.setTimesteps(3)
        XCTAssertEqual(ddpm.timesteps, [999, 500, 0])
        var euler = try EulerDiscreteScheduler(config: config(.linspace))
        try euler.setTimesteps(3)
        XCTAssertEqual(euler.timesteps, [999, 499.5, 0])  // Euler keeps the fractional value
    }

    /// DPM-Solver spaces n + 1 points and drops the last: leading uses 1000 // 11 = 90.
    func testDPMSolverLeadingAndTrailing() throws {
        var leading = try DPMSolverMultistepScheduler(config: config(.leading, offset: 1))
        try leading.setTimesteps(10)
        XCTAssertEqual(leading.timesteps, [901, 811, 721, 631, 541, 451, 361, 271, 181, 91])
        var trailing = try DPMSolverMultistepScheduler(config: config(.trailing))
        try trailing.setTimesteps(4)
        XCTAssertEqual(trailing.timesteps, [999, 749, 499, 249])
    }

    /// PLMS repeats its first step: linspace(0, 999, 4) = [0, 333, 666, 999].
    func testPNDMLinspaceRepeatsTheSecondTimestep() throws {
        var pndm = try PNDMScheduler(config: config(.linspace))
        try pndm.setTimesteps(4)
        XCTAssertEqual(pndm.timesteps, [999, 666, 666, 333, 0])
    }

    /// LCM picks floor(linspace(0, 50, n, endpoint=False)) from [999, 979, ..., 19].
    func testLCMPicksFromTheDistillationSchedule() throws {
        var lcm = try LCMScheduler(config: SchedulerConfig())
        try lcm.setTimesteps(4)
        XCTAssertEqual(lcm.timesteps, [999, 759, 499, 259])
        XCTAssertThrowsError(try lcm.setTimesteps(51))
    }

    /// Heun repeats every timestep after the first and its sigmas accordingly.
    func testHeunInterleaves() throws {
        var heun = try HeunDiscreteScheduler(config: config(.leading, offset: 1))
        try heun.setTimesteps(3)
        XCTAssertEqual(heun.timesteps, [667, 334, 334, 1, 1])
        let s = heun.sigmas ?? []
        XCTAssertEqual(s.count, 6)
        XCTAssertEqual(s[1], s[2])
        XCTAssertEqual(s[3], s[4])
        XCTAssertEqual(s[5], 0)
    }
}
