// Strict loading of single-file checkpoints: errors name the LDM key; pickle files are refused; sizes inferred.
import Foundation
import Models
import TensorCore
import TestSupport
import XCTest

final class SingleFileLoadingTests: XCTestCase {
    private var directory: URL!
    override func setUpWithError() throws { directory = try SingleFileFixture.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func assertLoadFails(_ url: URL, configs: SingleFileCheckpoint.Configs, mentioning texts: [String],
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SingleFileCheckpoint(url: url).load(configs), file: file, line: line) { error in
            XCTAssertTrue(error is SingleFileError, "\(error)", file: file, line: line)
            for text in texts { XCTAssertTrue("\(error)".contains(text), "'\(text)' not in: \(error)", file: file, line: line) }
        }
    }

    func testBothFixturesLoadWithTheirFolderConfigs() throws {
        for name in ["sd1", "sd2"] {
            let models = try SingleFileFixture.checkpoint(name).load(try SingleFileFixture.configs(name))
            XCTAssertEqual(models.unet.parameterCount, name == "sd1" ? 2_446_788 : 2_469_316, name)   // meta.json unet_params
            XCTAssertEqual(models.textEncoder.config.numHiddenLayers, 3, name)
        }
    }

    func testMissingKeyIsAnErrorNamingTheLDMKey() throws {
        let source = try SafetensorsFile(contentsOf: SingleFileFixture.file("sd2"))
        let key = "cond_stage_model.model.transformer.resblocks.1.attn.in_proj_weight"
        let url = try SingleFileFixture.tampered(source, removing: [key], to: directory.appendingPathComponent("missing.safetensors"))
        assertLoadFails(url, configs: try SingleFileFixture.configs("sd2"), mentioning: ["missing 1 LDM key", key, url.path])
    }

    func testUnexpectedKeyIsAnErrorNamingTheLDMKey() throws {
        let source = try SafetensorsFile(contentsOf: SingleFileFixture.file("sd1"))
        let key = "model.diffusion_model.input_blocks.1.0.extra.weight"
        let url = try SingleFileFixture.tampered(source, adding: [key: [1, 2, 3]], to: directory.appendingPathComponent("extra.safetensors"))
        assertLoadFails(url, configs: try SingleFileFixture.configs("sd1"), mentioning: ["unexpected 1 LDM key", key])
    }

    func testMisShapedKeyIsAnErrorNamingTheLDMKey() throws {
        let source = try SafetensorsFile(contentsOf: SingleFileFixture.file("sd1"))
        let key = "first_stage_model.decoder.mid.attn_1.q.weight"
        let url = try SingleFileFixture.tampered(source, reshaping: [key: [64, 64]], to: directory.appendingPathComponent("shape.safetensors"))
        assertLoadFails(url, configs: try SingleFileFixture.configs("sd1"), mentioning: [key, "[64, 64]", "expected [64, 64, 1, 1]"])
    }

    /// A configuration that does not fit the file (the wrong family's folder) fails on the first mismatch.
    func testWrongConfigFails() throws {
        assertLoadFails(try SingleFileFixture.file("sd1"), configs: try SingleFileFixture.configs("sd2"), mentioning: ["LDM key"])
    }

    func testBuffersAndEMAAreIgnored() throws {
        let source = try SafetensorsFile(contentsOf: SingleFileFixture.file("sd1"))
        let url = try SingleFileFixture.tampered(source, adding: ["alphas_cumprod": [1, 0.5], "model_ema.decay": [0.999],
                                                                  "cond_stage_model.transformer.text_model.embeddings.position_ids": [0, 1]],
                                                 to: directory.appendingPathComponent("buffers.safetensors"))
        XCTAssertNoThrow(try SingleFileCheckpoint(url: url).load(try SingleFileFixture.configs("sd1")))
    }

    func testPickleCheckpointsAreRefusedWithTheReason() throws {
        for name in ["model.ckpt", "model.pt", "pytorch_model.bin", "model.pth"] {
            let url = directory.appendingPathComponent(name)
            try Data([0x80, 0x02, 0x7D, 0x71]).write(to: url)
            XCTAssertThrowsError(try SingleFileCheckpoint(url: url)) { error in
                let text = "\(error)"
                for part in [url.path, "pickle", "runs whatever code", "safetensors"] { XCTAssertTrue(text.contains(part), "\(part): \(text)") }
            }
        }
        // A torch.save zip archive renamed to .safetensors is recognised by its first bytes.
        let disguised = directory.appendingPathComponent("disguised.safetensors")
        try Data([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0, 0, 0]).write(to: disguised)
        XCTAssertThrowsError(try SingleFileCheckpoint(url: disguised)) { XCTAssertTrue("\($0)".contains("pickle"), "\($0)") }
    }

    func testNotACheckpointIsAClearError() throws {
        let vae = try SharedData.url("fixtures/diffusers-tiny/vae/diffusion_pytorch_model.safetensors")
        XCTAssertThrowsError(try SingleFileCheckpoint(url: vae)) { XCTAssertTrue("\($0)".contains("VAE alone"), "\($0)") }
    }

    /// Without --config, sizes come from shapes: everything shapes tell matches the fixture folders;
    /// the rest follows SD (8 heads in SD 1.x, 64-wide heads and the penultimate text block in SD 2.x).
    func testInferredConfigsMatchWhatShapesTell() throws {
        for name in ["sd1", "sd2"] {
            let checkpoint = try SingleFileFixture.checkpoint(name)
            let inferred = try checkpoint.inferConfigs(), expected = try SingleFileFixture.configs(name)
            func assertInferred<Value: Equatable>(_ field: KeyPath<SingleFileCheckpoint.Configs, Value>) {
                XCTAssertEqual(inferred[keyPath: field], expected[keyPath: field], "\(name): \(field)")
            }
            assertInferred(\.unet.blockOutChannels)
            assertInferred(\.unet.layersPerBlock)
            assertInferred(\.unet.downBlockTypes)
            assertInferred(\.unet.upBlockTypes)
            assertInferred(\.unet.crossAttentionDim)
            assertInferred(\.unet.useLinearProjection)
            assertInferred(\.vae.blockOutChannels)
            assertInferred(\.vae.layersPerBlock)
            assertInferred(\.vae.latentChannels)
            assertInferred(\.text.hiddenSize)
            assertInferred(\.text.intermediateSize)
            assertInferred(\.text.vocabSize)
            assertInferred(\.text.hiddenAct)
            XCTAssertEqual(inferred.unet.inChannels, 4, name)
            // SD's conventions, which these small files do not follow (hence --config for them):
            XCTAssertEqual(inferred.text.numHiddenLayers, name == "sd1" ? 3 : 2, name)
            XCTAssertEqual(inferred.unet.attentionHeadDim, name == "sd1" ? .single(8) : .list([1, 1, 1, 1]), name)
            // Strict loading still holds: SD 2's unused last block is the only key left out.
            XCTAssertNoThrow(try checkpoint.load(inferred), name)
        }
    }
}

extension SingleFileLoadingTests {
    /// F32 and BF16 files load as F16 ones do (F16 → F32 exact; BF16 within its rounding).
    func testFloat32AndBFloat16FilesLoad() throws {
        let configs = try SingleFileFixture.configs("sd1")
        let original = try SingleFileFixture.checkpoint("sd1").load(configs)
        let folder = directory.appendingPathComponent("sd1")
        let pipeline = try StableDiffusionPipelineFolder(directory: try SingleFileFixture.folder("sd1"))
        _ = try SingleFileConverter.fileToFolder(try SingleFileFixture.checkpoint("sd1"), configs: configs, modelIndex: pipeline.modelIndex,
                                                 tokenizer: try pipeline.tokenizerDirectory(), scheduler: [:], to: folder, dtype: nil)
        for (dtype, tolerance) in [(SafetensorsDType.f32, Float(0)), (.bf16, Float(1e-2))] {
            let url = directory.appendingPathComponent("sd1-\(dtype.rawValue).safetensors")
            _ = try SingleFileConverter.folderToFile(folder, to: url, dtype: dtype)
            let loaded = try SingleFileCheckpoint(url: url).load(configs)
            for (a, b) in zip(loaded.unet.namedParameters(), original.unet.namedParameters()) {
                assertClose(a.parameter.value.values, b.parameter.value.values, relative: tolerance, "\(dtype.rawValue) \(a.key)")
            }
        }
    }

    /// A U-Net whose conv_in takes 9 channels is an inpainting model.
    func testNineInputChannelsAreInferred() throws {
        let source = try SafetensorsFile(contentsOf: SingleFileFixture.file("sd1"))
        let url = try SingleFileFixture.tampered(source, reshaping: ["model.diffusion_model.input_blocks.0.0.weight": [32, 9, 3, 3]],
                                                 to: directory.appendingPathComponent("inpaint.safetensors"))
        XCTAssertEqual(try SingleFileCheckpoint(url: url).inferConfigs().unet.inChannels, 9)
    }
}
