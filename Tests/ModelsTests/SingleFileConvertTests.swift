// diffusers folder ↔ single file conversion: round trips give the same tensors, byte for byte.
import Foundation
import Models
import TensorCore
import TestSupport
import XCTest

final class SingleFileConvertTests: XCTestCase {
    private var directory: URL!
    override func setUpWithError() throws { directory = try SingleFileFixture.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// File → folder with the fixture folder's configs, tokenizer and scheduler.
    private func toFolder(_ url: URL, _ name: String, dtype: SafetensorsDType? = nil, as folderName: String) throws -> URL {
        let config = try SingleFileFixture.folder(name)
        let pipeline = try StableDiffusionPipelineFolder(directory: config)
        let output = directory.appendingPathComponent(folderName)
        _ = try SingleFileConverter.fileToFolder(SingleFileCheckpoint(url: url), configs: SingleFileFixture.configs(name),
                                                 modelIndex: pipeline.modelIndex, tokenizer: pipeline.tokenizerDirectory(),
                                                 scheduler: ConfigFile.read([String: ConfigValue].self, from: pipeline.schedulerConfigURL()),
                                                 to: output, dtype: dtype)
        return output
    }

    /// Same names, dtypes, shapes and bytes (`except`: names allowed to be missing from `actual`).
    private func assertSameTensors(_ actual: URL, _ expected: URL, except: Set<String> = [],
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try SafetensorsFile(contentsOf: actual), e = try SafetensorsFile(contentsOf: expected)
        XCTAssertEqual(a.names, e.names.filter { !except.contains($0) }, "\(actual.lastPathComponent): names", file: file, line: line)
        for name in a.names where e.contains(name) {
            XCTAssertEqual(try a.dtype(name), try e.dtype(name), name, file: file, line: line)
            XCTAssertEqual(try a.shape(name), try e.shape(name), name, file: file, line: line)
            XCTAssertTrue(try a.bytes(name) == e.bytes(name), "\(name): bytes differ", file: file, line: line)
        }
    }

    private let weightFiles = ["unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors"]

    func testFileToFolderToFileKeepsEveryTensor() throws {
        for name in ["sd1", "sd2"] {
            let original = try SingleFileFixture.file(name)
            let folder = try toFolder(original, name, as: name)
            let back = directory.appendingPathComponent("\(name).safetensors")
            _ = try SingleFileConverter.folderToFile(folder, to: back, dtype: nil)
            // OpenCLIP's text_projection and logit_scale have no place in a diffusers CLIPTextModel.
            let dropped: Set<String> = name == "sd2" ? ["cond_stage_model.model.text_projection", "cond_stage_model.model.logit_scale"] : []
            try assertSameTensors(back, original, except: dropped)
            if name == "sd1" {
                XCTAssertEqual(try Data(contentsOf: back), try Data(contentsOf: original), "sd1: the whole file is byte-identical")
            }
        }
    }

    func testFolderToFileToFolderKeepsEveryTensor() throws {
        for name in ["sd1", "sd2"] {
            let folder = try toFolder(try SingleFileFixture.file(name), name, as: name)
            let file = directory.appendingPathComponent("\(name).safetensors")
            _ = try SingleFileConverter.folderToFile(folder, to: file, dtype: nil)
            let again = try toFolder(file, name, as: "\(name)-again")
            for weights in weightFiles {
                try assertSameTensors(again.appendingPathComponent(weights), folder.appendingPathComponent(weights))
            }
            // The folder written loads as a diffusers folder.
            XCTAssertNoThrow(try UNet2DConditionModel.load(directory: again.appendingPathComponent("unet")), name)
            XCTAssertNoThrow(try CLIPTextModel.load(directory: again.appendingPathComponent("text_encoder")), name)
            XCTAssertNoThrow(try AutoencoderKL.load(directory: again.appendingPathComponent("vae")), name)
        }
    }

    /// fp16 → fp32 is exact and fp32 → fp16 rounds back to the same halves; bf16 changes the type.
    func testDTypeConversion() throws {
        let original = try SingleFileFixture.file("sd2")
        let folder = try toFolder(original, "sd2", dtype: .f32, as: "sd2-f32")
        let unet = try SafetensorsFile(contentsOf: folder.appendingPathComponent(weightFiles[0]))
        XCTAssertEqual(Set(try unet.names.map { try unet.dtype($0) }), [.f32])
        let half = directory.appendingPathComponent("half.safetensors")
        _ = try SingleFileConverter.folderToFile(folder, to: half, dtype: .f16)
        try assertSameTensors(half, original, except: ["cond_stage_model.model.text_projection", "cond_stage_model.model.logit_scale"])
        let brain = directory.appendingPathComponent("bf16.safetensors")
        _ = try SingleFileConverter.folderToFile(folder, to: brain, dtype: .bf16)
        let b = try SafetensorsFile(contentsOf: brain), o = try SafetensorsFile(contentsOf: original)
        XCTAssertEqual(Set(try b.names.map { try b.dtype($0) }), [.bf16])
        let key = "model.diffusion_model.input_blocks.1.0.in_layers.2.weight"
        assertClose(try b.floats(key), try o.floats(key), relative: 1e-2, "bf16 weights")
    }
}
