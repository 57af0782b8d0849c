// Beta schedules, add_noise, get_velocity and img2img timesteps against diffusers references.
import Foundation
import XCTest
import TensorCore
import TestSupport
@testable import Schedulers

final class NoiseScheduleTests: XCTestCase {
    let scheduleNames = ["linear", "scaled_linear", "squaredcos_cap_v2"]

    func ddpmConfig(_ fixture: SchedulerFixture, schedule: String) throws -> SchedulerConfig {
        let schedules = fixture.json["beta_schedules"] as? [String: [String: Any]] ?? [:]
        let dict = schedules[schedule]?["config"] as? [String: Any] ?? [:]
        return try SchedulerConfig.decode(try JSONSerialization.data(withJSONObject: dict))
    }

    /// Elementwise |a - r| <= 1e-6 * |r| + 1e-12: betas are small, so a bound relative to
    /// the largest value would miss errors in the small ones.
    func assertElementwise(_ a: [Float], _ r: [Float], _ what: String) {
        XCTAssertEqual(a.count, r.count, what)
        let worst = zip(a, r).map { abs($0 - $1) / (abs($1) + 1e-6) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, 1e-6, "\(what): worst relative error \(worst)")
    }

    func testBetaSchedulesMatchDiffusers() throws {
        let fixture = try SchedulerFixture.get()
        for name in scheduleNames {
            let schedule = try NoiseSchedule(config: try ddpmConfig(fixture, schedule: name), scheduler: "test")
            assertElementwise(schedule.betas, try fixture.floats("schedules/\(name)/betas"), "\(name) betas")
            assertElementwise(schedule.alphasCumprod, try fixture.floats("schedules/\(name)/alphas_cumprod"), "\(name) alphas_cumprod")
        }
    }

    func rows(_ values: [Float], _ count: Int) -> [[Float]] {
        let size = values.count / count
        return (0..<count).map { Array(values[($0 * size)..<(($0 + 1) * size)]) }
    }

    func testDDPMAddNoiseForEachSchedule() throws {
        let fixture = try SchedulerFixture.get()
        let timesteps = try fixture.floats("add_noise/timesteps").map(Double.init)
        XCTAssertEqual(timesteps, [0, 1, 250, 500, 999])
        let original = rows(try fixture.floats("add_noise/original"), 5)
        let noise = rows(try fixture.floats("add_noise/noise"), 5)
        for name in scheduleNames {
            let ddpm = try DDPMScheduler(config: try ddpmConfig(fixture, schedule: name))
            var noisy: [Float] = []
            for i in 0..<5 { noisy += try ddpm.addNoise(original: original[i], noise: noise[i], timestep: timesteps[i]) }
            assertClose(noisy, try fixture.floats("add_noise/\(name)/noisy"), "\(name) add_noise")
        }
    }

    func testVelocityMatchesGetVelocity() throws {
        let fixture = try SchedulerFixture.get()
        let timesteps = try fixture.floats("add_noise/timesteps").map(Double.init)
        let original = rows(try fixture.floats("add_noise/original"), 5)
        let noise = rows(try fixture.floats("add_noise/noise"), 5)
        let ddpm = try DDPMScheduler(config: try fixture.config())
        var velocity: [Float] = []
        for i in 0..<5 { velocity += try ddpm.velocity(sample: original[i], noise: noise[i], timestep: timesteps[i]) }
        assertClose(velocity, try fixture.floats("velocity/out"), "get_velocity")
    }

    func testEulerAddNoiseUsesTheSigmaOfTheTimestep() throws {
        let fixture = try SchedulerFixture.get()
        var euler = try EulerDiscreteScheduler(config: try fixture.config())
        try euler.setTimesteps(10)
        let picked = [0, 4, 9].map { euler.timesteps[$0] }
        assertClose(picked.map { Float($0) }, try fixture.floats("add_noise/euler_n10/timesteps"), "euler add_noise timesteps")
        let original = rows(try fixture.floats("add_noise/original"), 5)
        let noise = rows(try fixture.floats("add_noise/noise"), 5)
        var noisy: [Float] = []
        for i in 0..<3 { noisy += try euler.addNoise(original: original[i], noise: noise[i], timestep: picked[i]) }
        assertClose(noisy, try fixture.floats("add_noise/euler_n10/noisy"), "euler add_noise")
    }

    /// The pipeline folder's own scheduler (PNDM, loaded from scheduler_config.json) gives the
    /// txt2img loop timesteps, and img2img's strength cut and add_noise.
    func testPipelineFolderSchedulerMatchesTxt2ImgAndImg2Img() throws {
        let config = try SchedulerConfig.load(from: try SharedData.url("fixtures/diffusers-tiny/scheduler"))
        var scheduler = try SchedulerFactory.make(config: config)
        XCTAssertTrue(scheduler is PNDMScheduler)
        try scheduler.setTimesteps(5)
        let txt2img = try SafetensorsFile(contentsOf: try SharedData.url("fixtures/diffusers-tiny/reference/pipeline_txt2img.safetensors"))
        XCTAssertEqual(scheduler.timesteps.map { Float($0) }, try txt2img.floats("neg_empty/timesteps"))

        let img2img = try SafetensorsFile(contentsOf: try SharedData.url("fixtures/diffusers-tiny/reference/pipeline_img2img.safetensors"))
        let remaining = scheduler.timestepsForStrength(0.6, count: 5)
        XCTAssertEqual(remaining.map { Float($0) }, try img2img.floats("timesteps"))
        XCTAssertEqual(Float(remaining[0]), try img2img.floats("latent_timestep")[0])
        let noisy = try scheduler.addNoise(original: try img2img.floats("init_latents"), noise: try img2img.floats("inputs/noise"),
                                           timestep: remaining[0])
        assertClose(noisy, try img2img.floats("noisy_latents"), "img2img noisy_latents")
    }

    /// Heun's img2img cut skips order * t_start entries and add_noise then uses the begin index.
    func testStrengthCutHonoursOrderAndBeginIndex() throws {
        let fixture = try SchedulerFixture.get()
        var heun = try HeunDiscreteScheduler(config: try fixture.config())
        try heun.setTimesteps(10)
        let all = heun.timesteps
        let remaining = heun.timestepsForStrength(0.5, count: 10)  // t_start = 5, begin = 10
        XCTAssertEqual(remaining, Array(all[10...]))
        let original: [Float] = [1, -2, 0.5], noise: [Float] = [0.25, 1, -1]
        let sigma = heun.sigmas?[10] ?? .nan
        let noisy = try heun.addNoise(original: original, noise: noise, timestep: remaining[0])
        XCTAssertEqual(noisy, zip(original, noise).map { $0 + $1 * sigma })
    }

    /// Lin et al. (2023): rescaling makes the terminal signal zero and keeps the first alpha_bar.
    func testZeroTerminalSNRRescale() throws {
        let fixture = try SchedulerFixture.get()
        var config = try fixture.config()
        let plain = try NoiseSchedule(config: config, scheduler: "test")
        config.rescaleBetasZeroSnr = true
        let rescaled = try NoiseSchedule(config: config, scheduler: "test")
        XCTAssertEqual(rescaled.alphasCumprod.last ?? 1, 0, accuracy: 1e-7)
        XCTAssertEqual(rescaled.alphasCumprod[0], plain.alphasCumprod[0], accuracy: 1e-6)
        XCTAssertTrue(zip(rescaled.alphasCumprod.dropFirst(), rescaled.alphasCumprod).allSatisfy { $0 <= $1 })
    }
}
