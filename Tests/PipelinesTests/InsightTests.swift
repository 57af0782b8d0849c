// The insight tools: cross-attention maps put a token where the attention looked, trajectories
// have one clean-image estimate per step, and inpainting keeps the unmasked pixels.
import Foundation
import Imaging
@testable import Pipelines
import TensorCore
import TestSupport
import XCTest

final class InsightTests: XCTestCase {
    /// A synthetic layer: queries in the left half of a 4×4 map point along x, the right half
    /// along y; token 1's key points along x, token 2's along y. Token 1's map must sit left.
    func testAttentionMapConcentratesWhereTheTokenIsAttended() throws {
        let maps = CrossAttentionMaps(latentHeight: 4, latentWidth: 4, guided: false)
        var q: [Float] = []
        for y in 0..<4 { for x in 0..<4 { _ = y; q += x < 2 ? [1, 0] : [0, 1] } }
        let queries = try Tensor(shape: [1, 16, 2], values: q)
        let keys = try Tensor(shape: [1, 3, 2], values: [0, 0, 6, 0, 0, 6])
        maps.observe(queries: queries, keys: keys, heads: 1, scale: 1)
        // A coarser layer (2×2, one query per 2×2 block) adds to the same latent pixels.
        let coarse = try Tensor(shape: [1, 4, 2], values: [1, 0, 0, 1, 1, 0, 0, 1])
        maps.observe(queries: coarse, keys: keys, heads: 1, scale: 1)
        let left = maps.map(token: 1), right = maps.map(token: 2)
        for y in 0..<4 {
            for x in 0..<4 {
                if x < 2 {
                    XCTAssertGreaterThan(left[y * 4 + x], 0.9)
                    XCTAssertLessThan(right[y * 4 + x], 0.1)
                } else {
                    XCTAssertLessThan(left[y * 4 + x], 0.1)
                    XCTAssertGreaterThan(right[y * 4 + x], 0.9)
                }
            }
        }
    }

    func testAttentionMapsRecordEveryCrossAttentionLayerOnly() throws {
        let model = try PipelineFixture.model()
        let maps = CrossAttentionMaps(latentHeight: 32, latentWidth: 32, guided: true)
        var request = GenerationRequest(prompt: PipelineFixture.prompt)
        request.steps = 2
        request.scheduler = "ddim"
        _ = try model.withAttentionMaps(maps) { try model.generate(request) }
        let layers = model.unet.attentionLayers(named: "attn2").count
        XCTAssertGreaterThan(layers, 0)
        XCTAssertEqual(maps.observations, 2 * layers, "one observation per cross-attention layer per step")
        XCTAssertTrue(model.unet.attentionLayers(named: "attn2").allSatisfy { $0.layer.probe == nil }, "probes are removed")
        XCTAssertEqual(model.promptTokens(PipelineFixture.prompt).map(\.text), ["a", "red", "circle", "on", "a", "blue", "background"])
    }

    func testTrajectoryHasAnEstimatePerStepForEveryScheduler() throws {
        let model = try PipelineFixture.model()
        for scheduler in [nil, "ddim", "euler", "dpm++2m"] {
            var request = GenerationRequest(prompt: PipelineFixture.prompt)
            request.steps = 3
            request.scheduler = scheduler
            var steps: [DenoisingStep] = []
            _ = try model.generate(request, onStep: { steps.append($0) })
            XCTAssertTrue(steps.allSatisfy { $0.predictedOriginal?.shape == [1, 4, 32, 32] }, "\(scheduler ?? "default")")
            let grid = try model.trajectoryGrid(steps)
            XCTAssertEqual(grid.width, steps.count * 128 + (steps.count + 1) * 2)
        }
    }

    func testInpaintKeepsTheUnmaskedPixels() throws {
        let model = try PipelineFixture.model()
        let image = try Tensor(shape: [1, 3, 64, 64], values: (0..<(3 * 64 * 64)).map { Float(($0 * 37) % 200) / 100 - 1 })
        let mask = (0..<(64 * 64)).map { Float($0 % 64 < 32 ? 1 : 0) }   // repaint the left half
        var request = InpaintRequest(prompt: PipelineFixture.prompt, image: image, mask: mask)
        request.steps = 3
        let result = try model.inpaint(request)
        let (input, output) = (image.values, result.images.values)
        var keptError: Float = 0, changed: Float = 0
        for c in 0..<3 {
            for p in 0..<(64 * 64) {
                let d = abs(input[c * 4096 + p] - output[c * 4096 + p])
                if mask[p] == 0 { keptError = max(keptError, d) } else { changed = max(changed, d) }
            }
        }
        XCTAssertEqual(keptError, 0, "unmasked pixels are kept exactly")
        XCTAssertGreaterThan(changed, 0.05, "the masked area is repainted")
    }
}
