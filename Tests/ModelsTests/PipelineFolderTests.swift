// Pipeline folders: reading the fixture folder, strict key errors, clear file errors, saving a folder
// whose configs equal what diffusers/transformers wrote.
import Foundation
import Models
import NN
import TensorCore
import TestSupport
import XCTest

final class PipelineFolderTests: XCTestCase {
    func testOpensFixtureFolderAndLoadsComponents() throws {
        let folder = try StableDiffusionPipelineFolder(directory: TinyFixture.pipeline())
        XCTAssertEqual(folder.modelIndex.className, "StableDiffusionPipeline")
        XCTAssertEqual(Set(folder.modelIndex.components.keys), ["scheduler", "text_encoder", "tokenizer", "unet", "vae"])
        XCTAssertEqual(folder.modelIndex.components["vae"], ComponentReference(library: "diffusers", className: "AutoencoderKL"))
        XCTAssertEqual(try folder.componentDirectory("unet").lastPathComponent, "unet")
        XCTAssertTrue(FileManager.default.fileExists(atPath: try folder.tokenizerDirectory().appendingPathComponent("vocab.json").path))
        XCTAssertEqual(try folder.schedulerConfigURL().lastPathComponent, "scheduler_config.json")
        XCTAssertEqual(try folder.loadVAE().parameterCount, 658_375)
        XCTAssertEqual(try folder.loadTextEncoder().parameterCount, 1_617_529)
        XCTAssertThrowsError(try folder.componentDirectory("safety_checker")) { XCTAssertTrue("\($0)".contains("safety_checker")) }
    }

    func testMissingFolderFileAndInvalidJSONNameThePath() throws {
        let root = try TinyFixture.temporaryDirectory("errors")
        defer { try? FileManager.default.removeItem(at: root) }
        let absent = root.appendingPathComponent("nowhere")
        XCTAssertThrowsError(try StableDiffusionPipelineFolder(directory: absent)) { XCTAssertTrue("\($0)".contains(absent.path)) }
        XCTAssertThrowsError(try StableDiffusionPipelineFolder(directory: root)) {
            XCTAssertTrue("\($0)".contains(root.appendingPathComponent("model_index.json").path))
        }
        let index = root.appendingPathComponent("model_index.json")
        try Data("{\"_class_name\": ".utf8).write(to: index)
        XCTAssertThrowsError(try StableDiffusionPipelineFolder(directory: root)) {
            XCTAssertTrue("\($0)".contains("invalid JSON") && "\($0)".contains(index.path), "\($0)")
        }
        // A listed component whose folder is absent; then a vae folder without weights or with bad config.
        try ModelIndex.stableDiffusion().write(to: index)
        let folder = try StableDiffusionPipelineFolder(directory: root)
        XCTAssertThrowsError(try folder.loadVAE()) { XCTAssertTrue("\($0)".contains(root.appendingPathComponent("vae").path)) }
        let vae = root.appendingPathComponent("vae")
        try FileManager.default.createDirectory(at: vae, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: TinyFixture.component("vae/config.json"), to: vae.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try folder.loadVAE()) {
            XCTAssertTrue("\($0)".contains(vae.appendingPathComponent("diffusion_pytorch_model.safetensors").path), "\($0)")
        }
        try Data("{\"act_fn\": 3}".utf8).write(to: vae.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try folder.loadVAE()) { XCTAssertTrue("\($0)".contains("act_fn"), "\($0)") }
    }

    func testUnsupportedConfigValuesNameTheField() throws {
        var config = AutoencoderKLConfig()
        config.actFn = "tanh"
        XCTAssertThrowsError(try AutoencoderKL(config: config)) { XCTAssertTrue("\($0)".contains("act_fn") && "\($0)".contains("tanh")) }
        config = AutoencoderKLConfig()
        config.downBlockTypes = ["AttnDownEncoderBlock2D"]
        XCTAssertThrowsError(try AutoencoderKL(config: config)) { XCTAssertTrue("\($0)".contains("AttnDownEncoderBlock2D")) }
        var clip = CLIPTextConfig()
        clip.hiddenAct = "swiglu"
        XCTAssertThrowsError(try CLIPTextModel(config: clip)) { XCTAssertTrue("\($0)".contains("hidden_act")) }
    }

    /// Writes the fixture's VAE weights with one edit and checks loading fails naming `key`.
    private func assertVAELoadFails(naming key: String, edit: (inout [String: ([Int], [Float])]) -> Void,
                                    file: StaticString = #filePath, line: UInt = #line) throws {
        let source = try SafetensorsFile(contentsOf: TinyFixture.component("vae/diffusion_pytorch_model.safetensors"))
        var tensors: [String: ([Int], [Float])] = [:]
        for name in source.names { tensors[name] = (try source.shape(name), try source.floats(name)) }
        edit(&tensors)
        let directory = try TinyFixture.temporaryDirectory("vae-keys")
        defer { try? FileManager.default.removeItem(at: directory) }
        var writer = SafetensorsWriter()
        for (name, (shape, values)) in tensors { try writer.add(name, shape: shape, floats: values) }
        try writer.write(to: directory.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        try FileManager.default.copyItem(at: TinyFixture.component("vae/config.json"), to: directory.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try AutoencoderKL.load(directory: directory), file: file, line: line) {
            XCTAssertTrue("\($0)".contains(key), "error \"\($0)\" does not name \(key)", file: file, line: line)
        }
    }

    func testRenamedMissingAndMisshapedKeysAreErrorsNamingTheKey() throws {
        let key = "decoder.up_blocks.1.resnets.0.conv_shortcut.weight"
        let renamed = "decoder.up_blocks.1.resnets.0.shortcut.weight"
        try assertVAELoadFails(naming: key) { $0[renamed] = $0.removeValue(forKey: key) }   // reported missing
        try assertVAELoadFails(naming: renamed) { tensors in                              // reported unexpected
            tensors[renamed] = tensors[key]
        }
        try assertVAELoadFails(naming: "encoder.mid_block.attentions.0.to_q.bias") { $0["encoder.mid_block.attentions.0.to_q.bias"] = nil }
        try assertVAELoadFails(naming: "quant_conv.weight") { $0["quant_conv.weight"] = ([8, 8, 3, 3], Array(repeating: 0, count: 576)) }
    }

    func testHalfPrecisionVariantFilesLoad() throws {
        let reference = try AutoencoderKL.load(directory: TinyFixture.component("vae"))
        let source = try SafetensorsFile(contentsOf: TinyFixture.component("vae/diffusion_pytorch_model.safetensors"))
        for dtype in [SafetensorsDType.f16, .bf16] {
            let directory = try TinyFixture.temporaryDirectory("vae-variant")
            defer { try? FileManager.default.removeItem(at: directory) }
            var writer = SafetensorsWriter()
            for name in source.names { try writer.add(name, shape: source.shape(name), floats: source.floats(name), as: dtype) }
            try writer.write(to: directory.appendingPathComponent("diffusion_pytorch_model.fp16.safetensors"))
            try FileManager.default.copyItem(at: TinyFixture.component("vae/config.json"), to: directory.appendingPathComponent("config.json"))
            let loaded = try AutoencoderKL.load(directory: directory)
            let bound: Float = dtype == .f16 ? 1e-3 : 8e-3   // 11-bit and 8-bit mantissas
            for (a, b) in zip(reference.namedParameters(), loaded.namedParameters()) {
                for (x, y) in zip(a.parameter.value.values, b.parameter.value.values) {
                    XCTAssertLessThanOrEqual(abs(x - y), abs(x) * bound + 1e-6, "\(dtype) \(a.key)")
                }
            }
        }
    }

    func testSavedFolderMatchesDiffusersLayout() throws {
        let fixture = try StableDiffusionPipelineFolder(directory: TinyFixture.pipeline())
        let root = try TinyFixture.temporaryDirectory("pipeline")
        defer { try? FileManager.default.removeItem(at: root) }
        let vae = try fixture.loadVAE(), textEncoder = try fixture.loadTextEncoder()
        let folder = try StableDiffusionPipelineFolder.create(at: root)
        try folder.save(vae: vae)
        try folder.save(textEncoder: textEncoder)
        try folder.copyComponentFiles("tokenizer", from: fixture.tokenizerDirectory())
        try folder.saveSchedulerConfig(ConfigFile.read([String: ConfigValue].self, from: fixture.schedulerConfigURL()))

        let reopened = try StableDiffusionPipelineFolder(directory: root)
        XCTAssertEqual(reopened.modelIndex, fixture.modelIndex)
        assertBitIdenticalParameters(try reopened.loadVAE(), vae)
        assertBitIdenticalParameters(try reopened.loadTextEncoder(), textEncoder)
        for file in ["vocab.json", "merges.txt", "special_tokens_map.json", "tokenizer_config.json"] {
            XCTAssertEqual(try Data(contentsOf: reopened.tokenizerDirectory().appendingPathComponent(file)),
                           try Data(contentsOf: fixture.tokenizerDirectory().appendingPathComponent(file)), file)
        }
        XCTAssertEqual(try ConfigFile.read([String: ConfigValue].self, from: reopened.schedulerConfigURL()),
                       try ConfigFile.read([String: ConfigValue].self, from: fixture.schedulerConfigURL()))
        // Same weight files and key sets as the diffusers-written folder.
        for path in ["vae/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors"] {
            let written = try SafetensorsFile(contentsOf: root.appendingPathComponent(path))
            let original = try SafetensorsFile(contentsOf: TinyFixture.pipeline().appendingPathComponent(path))
            XCTAssertEqual(written.names, original.names, path)
            XCTAssertEqual(written.metadata, original.metadata, path)
            // The safetensors library lays files out deterministically; ours matches byte for byte.
            XCTAssertEqual(try Data(contentsOf: root.appendingPathComponent(path)),
                           try Data(contentsOf: TinyFixture.pipeline().appendingPathComponent(path)), path)
        }
    }
}

// MARK: - Helpers shared by the model tests

enum TinyFixture {
    static func pipeline() throws -> URL { try SharedData.url("fixtures/diffusers-tiny") }
    static func component(_ name: String) throws -> URL { try SharedData.url("fixtures/diffusers-tiny/\(name)") }
    static func reference(_ name: String) throws -> SafetensorsFile {
        try SafetensorsFile(contentsOf: SharedData.url("fixtures/diffusers-tiny/reference/\(name)"))
    }

    /// A fresh empty directory under the system temporary directory.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Every parameter of `a` equals the same-named parameter of `b` bit for bit.
func assertBitIdenticalParameters(_ a: Module, _ b: Module, file: StaticString = #filePath, line: UInt = #line) {
    let pa = a.namedParameters(), pb = b.namedParameters()
    XCTAssertEqual(pa.map(\.key), pb.map(\.key), file: file, line: line)
    for (x, y) in zip(pa, pb) {
        let same = x.parameter.value.values.map(\.bitPattern) == y.parameter.value.values.map(\.bitPattern)
        XCTAssertTrue(same, "parameter \(x.key) differs", file: file, line: line)
    }
}
