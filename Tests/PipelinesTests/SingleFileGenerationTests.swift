// Both single-file fixtures generate what diffusers' from_single_file(file, config=folder) generates.
import Foundation
import Models
import Pipelines
import Schedulers
import TensorCore
import TestSupport
import XCTest

final class SingleFileGenerationTests: XCTestCase {
    /// meta.json: "a red apple", 4 steps, guidance 5, 64×64, from the reference's initial latents
    /// with each folder's scheduler (DDIM epsilon for sd1, Euler v-prediction for sd2).
    private func generate(_ name: String) throws -> (GenerationResult, SafetensorsFile) {
        let folder = try SharedData.url("fixtures/single-file/\(name)")
        let model = try StableDiffusion.load(singleFile: try SharedData.url("fixtures/single-file/\(name).safetensors"), config: folder,
                                             predictionType: nil, defaultTokenizer: { _ in folder.appendingPathComponent("tokenizer") })
        let reference = try SafetensorsFile(contentsOf: try SharedData.url("fixtures/single-file/reference.safetensors"))
        var request = GenerationRequest(prompt: "a red apple")
        request.steps = 4
        request.guidance = 5
        request.width = 64
        request.height = 64
        request.latents = try Tensor(reference, "latents_\(name)")
        return (try model.generate(request), reference)
    }

    /// This tiny random SD 1.x pipeline under DDIM with guidance 5 is chaotic: a 1e-4 relative change
    /// of its initial latents moves the image by 2.6e-2 (SD 2.x: 8.6e-4), so float32 rounding
    /// differences show at this level, and they differ between CPUs: max |Δ| 2.6e-3 on a 2-core AVX2
    /// EPYC, 8.6e-3 on Zen 4 (oneDNN's AVX-512 kernels). A wrong weight or sampler moves it by 0.1 and
    /// more, and the mean (7.9e-4 on Zen 4) stays far below the largest.
    func testSD1FileMatchesDiffusers() throws {
        let (result, reference) = try generate("sd1")
        let (image, expected) = (result.images.imagesToUnitNHWC(), try Tensor(reference, "images_sd1"))
        assertClose(image, expected, absolute: 1.5e-2, "sd1 image")
        let mean = meanAbsDifference(image.values, expected.values)
        print("sd1 image: mean |Δ| \(mean)")
        XCTAssertLessThanOrEqual(mean, 2e-3, "sd1 image: mean difference")
    }

    /// Measured: max |Δ| 2.2e-5.
    func testSD2FileMatchesDiffusers() throws {
        let (result, reference) = try generate("sd2")
        assertClose(result.images.imagesToUnitNHWC(), try Tensor(reference, "images_sd2"), absolute: 2e-4, "sd2 image")
    }

    /// Without --config: SD's PNDM sampler over the scaled-linear betas, v-prediction for SD 2.x.
    func testDefaultSchedulerIsSDsPNDM() throws {
        let config = try StableDiffusion.singleFileSchedulerConfig(predictionType: StableDiffusion.defaultPredictionType(.sd2))
        XCTAssertEqual(config.className, "PNDMScheduler")
        XCTAssertEqual(config.betaSchedule, .scaledLinear)
        XCTAssertEqual(config.betaStart, 0.00085)
        XCTAssertEqual(config.betaEnd, 0.012)
        XCTAssertEqual(config.predictionType, .vPrediction)
        XCTAssertTrue(config.skipPrkSteps)
        XCTAssertEqual(StableDiffusion.defaultPredictionType(.sd1), .epsilon)
    }
}
