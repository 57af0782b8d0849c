// CLIPTextModel against transformers' reference outputs, parameter count, save/load, pooling and inputs.
import Foundation
import Models
import NN
import TensorCore
import TestSupport
import XCTest

final class CLIPTextModelTests: XCTestCase {
    func testMatchesTransformers() throws {
        let model = try CLIPTextModel.load(directory: TinyFixture.component("text_encoder"))
        let ref = try TinyFixture.reference("text_encoder.safetensors")
        let ids = try ref.int64s("input_ids").map { Int($0) }
        let batch = try ref.shape("input_ids")[0]
        XCTAssertEqual(batch, 3)
        try Autograd.withoutGrad {
            try model.validate(ids: ids, batch: batch)
            let out = model(ids: ids, batch: batch)
            assertClose(out.lastHidden, try Tensor(ref, "last_hidden_state"), relative: 1e-4, "last_hidden_state")
            assertClose(out.penultimateNormed, try Tensor(ref, "penultimate_normed"), relative: 1e-4, "penultimate_normed")
            assertClose(out.pooled, try Tensor(ref, "pooler_output"), relative: 1e-4, "pooler_output")
        }
    }

    func testParameterCountMatchesTransformers() throws {
        let model = try CLIPTextModel.load(directory: TinyFixture.component("text_encoder"))
        XCTAssertEqual(model.parameterCount, 1_617_529)
    }

    func testSaveLoadRoundTripIsBitExact() throws {
        let model = try CLIPTextModel.load(directory: TinyFixture.component("text_encoder"))
        let directory = try TinyFixture.temporaryDirectory("clip")
        defer { try? FileManager.default.removeItem(at: directory) }
        try model.save(directory: directory)
        let reloaded = try CLIPTextModel.load(directory: directory)
        XCTAssertEqual(reloaded.config, model.config)
        assertBitIdenticalParameters(model, reloaded)
        // The written config is the one transformers wrote, entry for entry.
        let written = try ConfigFile.read([String: ConfigValue].self, from: directory.appendingPathComponent("config.json"))
        let original = try ConfigFile.read([String: ConfigValue].self, from: TinyFixture.component("text_encoder/config.json"))
        XCTAssertEqual(written, original)
    }

    /// Older transformers checkpoints carry `text_model.embeddings.position_ids`; it loads and is ignored.
    func testPositionIdsBufferIsAccepted() throws {
        let source = try SafetensorsFile(contentsOf: TinyFixture.component("text_encoder/model.safetensors"))
        XCTAssertFalse(source.contains(CLIPTextModel.positionIdsKey))
        let directory = try TinyFixture.temporaryDirectory("clip-posids")
        defer { try? FileManager.default.removeItem(at: directory) }
        var writer = SafetensorsWriter()
        for name in source.names { try writer.add(name, shape: source.shape(name), floats: source.floats(name)) }
        try writer.add(CLIPTextModel.positionIdsKey, shape: [1, 77], int64s: (0..<77).map { Int64($0) })
        try writer.write(to: directory.appendingPathComponent("model.safetensors"))
        try FileManager.default.copyItem(at: TinyFixture.component("text_encoder/config.json"),
                                         to: directory.appendingPathComponent("config.json"))
        let model = try CLIPTextModel.load(directory: directory)
        assertBitIdenticalParameters(model, try CLIPTextModel.load(directory: TinyFixture.component("text_encoder")))
    }

    func testPoolingUsesFirstEOSOrLegacyArgmax() throws {
        var config = CLIPTextConfig()
        (config.hiddenSize, config.intermediateSize, config.numHiddenLayers, config.numAttentionHeads) = (8, 16, 2, 2)
        config.vocabSize = 50
        let ids = [49 - 1, 5, 7, 9, 7, 7,   // legacy: the largest id (48) at position 0
                   3, 7, 4, 7, 40, 1]       // EOS 7 first at position 1; largest id at position 4
        config.eosTokenId = 7
        let model = try CLIPTextModel(config: config, seed: 1)
        let out = Autograd.withoutGrad { model(ids: ids, batch: 2) }
        let rows = out.lastHidden.values, pooled = out.pooled.values
        XCTAssertEqual(Array(pooled[0..<8]), Array(rows[(0 * 6 + 2) * 8..<(0 * 6 + 3) * 8]))   // row 0: first 7 at 2
        XCTAssertEqual(Array(pooled[8..<16]), Array(rows[(1 * 6 + 1) * 8..<(1 * 6 + 2) * 8]))  // row 1: first 7 at 1
        config.eosTokenId = 2
        let legacy = try CLIPTextModel(config: config, seed: 1)
        let legacyOut = Autograd.withoutGrad { legacy(ids: ids, batch: 2) }
        let lp = legacyOut.pooled.values, lr = legacyOut.lastHidden.values
        XCTAssertEqual(Array(lp[0..<8]), Array(lr[0..<8]))                         // row 0: argmax at 0
        XCTAssertEqual(Array(lp[8..<16]), Array(lr[(6 + 4) * 8..<(6 + 5) * 8]))   // row 1: argmax at 4
    }

    func testCausalMaskKeepsEarlierPositionsIndependentOfLaterTokens() throws {
        let model = try CLIPTextModel.load(directory: TinyFixture.component("text_encoder"))
        var a = [49406] + Array(repeating: 320, count: 9) + [49407]
        let b = Array(a[0..<5]) + [1000, 2000, 3000, 4000, 5000, 49407]
        a = a + b
        let out = Autograd.withoutGrad { model(ids: a, batch: 2) }.lastHidden   // [2, 11, 32]
        let first = out.slice(axis: 0, start: 0, length: 1).slice(axis: 1, start: 0, length: 5).values
        let second = out.slice(axis: 0, start: 1, length: 1).slice(axis: 1, start: 0, length: 5).values
        XCTAssertEqual(first, second)
    }

    func testInvalidIdsAreErrors() throws {
        let model = try CLIPTextModel.load(directory: TinyFixture.component("text_encoder"))
        XCTAssertThrowsError(try model.validate(ids: [49406, 49408], batch: 1)) { XCTAssertTrue("\($0)".contains("49408")) }
        XCTAssertThrowsError(try model.validate(ids: [49406, -1], batch: 1))
        XCTAssertThrowsError(try model.validate(ids: Array(repeating: 1, count: 78), batch: 1))
        XCTAssertThrowsError(try model.validate(ids: [1, 2, 3], batch: 2))
        XCTAssertThrowsError(try model.validate(ids: [1, 2], batch: 0))
        XCTAssertNoThrow(try model.validate(ids: Array(repeating: 49407, count: 154), batch: 2))
    }

    func testFreshModelTrainsEndToEnd() throws {
        let fixture = try CLIPTextModel.load(directory: TinyFixture.component("text_encoder"))
        let model = try CLIPTextModel(config: fixture.config, seed: 7)
        let out = model(ids: [49406, 320, 1125, 49407], batch: 1)
        (out.lastHidden.square().mean() + out.pooled.sum()).backward()
        for (key, parameter) in model.namedParameters() where !key.contains("token_embedding") {
            guard let grad = parameter.grad else { XCTFail("no gradient for \(key)"); continue }
            XCTAssertTrue(grad.values.contains { $0 != 0 }, "zero gradient for \(key)")
        }
    }
}
