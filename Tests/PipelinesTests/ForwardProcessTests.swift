// The forward process (noise to step t) and denoising from a chosen step on the tiny pipeline.
import Foundation
import Pipelines
import TensorCore
import TestSupport
import XCTest

final class ForwardProcessTests: XCTestCase {
    /// A deterministic 64×64 test picture in [-1, 1], [1, 3, 64, 64].
    private func picture() throws -> Tensor {
        var values: [Float] = []
        for c in 0..<3 {
            for y in 0..<64 {
                for x in 0..<64 { values.append(sin(Float(x) * 0.2 + Float(c)) * cos(Float(y) * 0.15) * 0.9) }
            }
        }
        return try Tensor(shape: [1, 3, 64, 64], values: values)
    }

    /// ᾱ_t of the fixture's scheduled-linear schedule, computed here in double:
    /// β_i = (√β_start + i·(√β_end − √β_start)/999)², ᾱ_t = ∏_{i≤t}(1 − β_i).
    private func alphaBar(_ t: Int) -> Double {
        let (a, b) = (0.00085.squareRoot(), 0.012.squareRoot())
        var product = 1.0
        for i in 0...t {
            let root = a + Double(i) * (b - a) / 999
            product *= 1 - root * root
        }
        return product
    }

    func testPixelSpaceAtZeroIsTheInput() throws {
        let model = try PipelineFixture.model()
        let image = try picture()
        let noised = try model.noise(image: image, timesteps: [0], space: .pixel, seed: 3)
        XCTAssertEqual(noised.count, 1)
        XCTAssertEqual(noised[0].timestep, 0)
        XCTAssertEqual(noised[0].signalScale, 1)
        XCTAssertNil(noised[0].latents)
        XCTAssertEqual(noised[0].image.shape, image.shape)
        XCTAssertEqual(noised[0].image.values, image.values)
    }

    func testPixelSpaceFollowsTheClosedForm() throws {
        let model = try PipelineFixture.model()
        let image = try picture()
        let noised = try model.noise(image: image, timesteps: [999], space: .pixel, seed: 5)
        var generator = TorchGenerator(seed: 5)
        let epsilon = generator.randn(count: image.count)
        let abar = alphaBar(999)
        let expected = zip(image.values, epsilon).map { Float(abar.squareRoot() * Double($0) + (1 - abar).squareRoot() * Double($1)) }
        assertClose(noised[0].image, try Tensor(shape: image.shape, values: expected), absolute: 1e-5, "x_999")
        XCTAssertEqual(Double(noised[0].signalScale), abar.squareRoot(), accuracy: 1e-6)
    }

    func testLatentSpaceFollowsTheClosedForm() throws {
        let model = try PipelineFixture.model()
        let image = try picture()
        let ladder = [0, 250, 500, 999]
        let noised = try model.noise(image: image, timesteps: ladder, space: .latent, seed: 11)
        XCTAssertEqual(noised.map(\.timestep), ladder)
        let z0 = try model.encodeMean(images: image)  // [1, 4, 32, 32]
        XCTAssertEqual(z0.shape, [1, 4, 32, 32])
        var generator = TorchGenerator(seed: 11)
        let epsilon = generator.randn(count: z0.count)
        for entry in noised {
            let abar = entry.timestep == 0 ? 1 : alphaBar(entry.timestep)
            let expected = zip(z0.values, epsilon).map { Float(abar.squareRoot() * Double($0) + (1 - abar).squareRoot() * Double($1)) }
            let latents = try XCTUnwrap(entry.latents)
            assertClose(latents, try Tensor(shape: z0.shape, values: expected), relative: 1e-5, "z_\(entry.timestep)")
            XCTAssertEqual(entry.image.shape, [1, 3, 64, 64])
            assertClose(entry.image, try model.decode(latents: latents), absolute: 1e-5, "decoded z_\(entry.timestep)")
        }
    }

    func testOutOfRangeTimestepsAreErrors() throws {
        let model = try PipelineFixture.model()
        XCTAssertThrowsError(try model.noise(image: try picture(), timesteps: [1000], space: .pixel, seed: 0)) {
            XCTAssertTrue($0 is PipelineError, "\($0)")
        }
        XCTAssertThrowsError(try model.noise(image: try picture(), timesteps: [-1], space: .latent, seed: 0))
    }

    func testDenoiseFromSavedLatentsRuns() throws {
        let model = try PipelineFixture.model()
        let noised = try model.noise(image: try picture(), timesteps: [500], space: .latent, seed: 2)
        let zt = try XCTUnwrap(noised[0].latents)
        var steps: [DenoisingStep] = []
        let result = try model.denoise(latents: zt, from: 500, steps: 3, prompt: "a picture", guidance: 7.5) { steps.append($0) }
        XCTAssertEqual(result.images.shape, [1, 3, 64, 64])
        XCTAssertEqual(result.latents.shape, [1, 4, 32, 32])
        XCTAssertEqual(steps.count, 3)
        XCTAssertEqual(result.timesteps, [500, 333, 167])
        XCTAssertEqual(steps.first?.timestep, 500)
        XCTAssertTrue(result.images.values.allSatisfy(\.isFinite))
        // The loop moved the latents (it is not an identity).
        XCTAssertNotEqual(result.latents.values, zt.values)

        // At t = 0 the latents are clean: denoise only decodes.
        let clean = try model.denoise(latents: zt, from: 0, steps: 3, prompt: "", guidance: 1)
        XCTAssertEqual(clean.timesteps, [])
        assertClose(clean.images, try model.decode(latents: zt), absolute: 0, "t = 0 decode")

        XCTAssertThrowsError(try model.denoise(latents: zt, from: 1000, steps: 3, prompt: "", guidance: 1))
        XCTAssertThrowsError(try model.denoise(latents: zt, from: 500, steps: 0, prompt: "", guidance: 1))
        XCTAssertThrowsError(try model.denoise(latents: Tensor.zeros([1, 3, 32, 32]), from: 500, steps: 2, prompt: "", guidance: 1))
    }
}
