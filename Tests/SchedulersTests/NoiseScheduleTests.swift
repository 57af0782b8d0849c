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

    func testDDPMAddNoiseForEachSchedule() throws {
        let fixture = try SchedulerFixture.get()
        let timesteps = try fixture.floats("add_noise/timesteps").map(Double.init)
        XCTAssertEqual(timesteps, [0, 1, 250, 500, 999])
        let original = try fixture.rows("add_noise/original")
        let noise = try fixture.rows("add_noise/noise")
        for name in scheduleNames {
            let ddpm = try DDPMScheduler(config: try ddpmConfig(fixture, schedule: name))
            var noisy: [Float] = []
            for i in 0..<5 { noisy += try ddpm.addNoise(original: original[i], noise: noise[i], timestep: timesteps[i]).values }
            assertClose(noisy, try fixture.floats("add_noise/\(name)/noisy"), relative: 1e-5, "\(name) add_noise")
        }
    }

    func testVelocityMatchesGetVelocity() throws {
        let fixture = try SchedulerFixture.get()
        let timesteps = try fixture.floats("add_noise/timesteps").map(Double.init)
        let original = try fixture.rows("add_noise/original")
        let noise = try fixture.rows("add_noise/noise")
        let ddpm = try DDPMScheduler(config: try fixture.config())
        var velocity: [Float] = [], target: [Float] = []
        for i in 0..<5 {
            velocity += try ddpm.velocity(sample: original[i], noise: noise[i], timestep: timesteps[i]).values
            let acp = ddpm.noiseSchedule.alphasCumprod[Int(timesteps[i])]
            target += PredictionType.vPrediction.target(original: original[i], noise: noise[i], alphaProd: Tensor(acp)).values
        }
        assertClose(velocity, try fixture.floats("velocity/out"), relative: 1e-5, "get_velocity")
        assertClose(target, try fixture.floats("velocity/out"), relative: 1e-5, "v_prediction target")
        // The per-item form: one ᾱ per batch row, [5, 1, 1, 1].
        let acps = try Tensor(shape: [5, 1, 1, 1], values: timesteps.map { ddpm.noiseSchedule.alphasCumprod[Int($0)] })
        let batched = PredictionType.vPrediction.target(original: try fixture.tensor("add_noise/original"),
                                                        noise: try fixture.tensor("add_noise/noise"), alphaProd: acps)
        assertClose(batched.values, try fixture.floats("velocity/out"), relative: 1e-5, "batched v_prediction target")
    }

    func testEulerAddNoiseUsesTheSigmaOfTheTimestep() throws {
        let fixture = try SchedulerFixture.get()
        var euler = try EulerDiscreteScheduler(config: try fixture.config())
        try euler.setTimesteps(10)
        let picked = [0, 4, 9].map { euler.timesteps[$0] }
        assertClose(picked.map { Float($0) }, try fixture.floats("add_noise/euler_n10/timesteps"), relative: 1e-5,
                    "euler add_noise timesteps")
        let original = try fixture.rows("add_noise/original")
        let noise = try fixture.rows("add_noise/noise")
        var noisy: [Float] = []
        for i in 0..<3 { noisy += try euler.addNoise(original: original[i], noise: noise[i], timestep: picked[i]).values }
        assertClose(noisy, try fixture.floats("add_noise/euler_n10/noisy"), relative: 1e-5, "euler add_noise")
    }

    /// The pipeline folder's own scheduler (PNDM, loaded from scheduler_config.json) gives the
    /// txt2img loop timesteps, and img2img's strength cut and add_noise.
    func testPipelineFolderSchedulerMatchesTxt2ImgAndImg2Img() throws {
        let config = try SchedulerConfig.load(from: try SharedData.url("fixtures/diffusers-tiny/scheduler"))
        var scheduler = try makeScheduler(config: config)
        XCTAssertTrue(scheduler is PNDMScheduler)
        try scheduler.setTimesteps(5)
        let txt2img = try SafetensorsFile(contentsOf: try SharedData.url("fixtures/diffusers-tiny/reference/pipeline_txt2img.safetensors"))
        XCTAssertEqual(scheduler.timesteps.map { Float($0) }, try txt2img.floats("neg_empty/timesteps"))

        let img2img = try SafetensorsFile(contentsOf: try SharedData.url("fixtures/diffusers-tiny/reference/pipeline_img2img.safetensors"))
        let remaining = scheduler.timestepsForStrength(0.6, count: 5)
        XCTAssertEqual(remaining.map { Float($0) }, try img2img.floats("timesteps"))
        XCTAssertEqual(Float(remaining[0]), try img2img.floats("latent_timestep")[0])
        func tensor(_ name: String) throws -> Tensor { try Tensor(shape: try img2img.shape(name), values: try img2img.floats(name)) }
        let noisy = try scheduler.addNoise(original: try tensor("init_latents"), noise: try tensor("inputs/noise"), timestep: remaining[0])
        assertClose(noisy.values, try img2img.floats("noisy_latents"), relative: 1e-5, "img2img noisy_latents")
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
        let noisy = try heun.addNoise(original: try Tensor(shape: [3], values: original), noise: try Tensor(shape: [3], values: noise),
                                      timestep: remaining[0])
        XCTAssertEqual(noisy.values, zip(original, noise).map { $0 + $1 * sigma })
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
