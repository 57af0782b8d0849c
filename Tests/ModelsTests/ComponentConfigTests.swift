// The three component configs (UNetConfig, AutoencoderKLConfig, CLIPTextConfig) read and write one way:
// wrong types and missing files are ConfigErrors naming file and key; writing then reading gives the same
// config; the shipped model's configs are written back byte for byte.
import Foundation
import Models
import TensorCore
import TestSupport
import XCTest

final class ComponentConfigTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try TinyFixture.temporaryDirectory("component-config")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// `json` as `directory/config.json`; returns that file's path.
    private func writeConfig(_ json: String) throws -> String {
        let url = directory.appendingPathComponent("config.json")
        try Data(json.utf8).write(to: url)
        return url.path
    }

    /// Loading a config that holds `json` fails with a ConfigError naming the file and `key`.
    private func assertConfigError<Model: ComponentModel>(_ model: Model.Type, _ json: String, key: String, saying reason: String = "",
                                                          file: StaticString = #filePath, line: UInt = #line) throws {
        let path = try writeConfig(json)
        XCTAssertThrowsError(try Model.loadConfig(directory: directory), file: file, line: line) { error in
            guard let error = error as? ConfigError else { return XCTFail("not a ConfigError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.file, path, "\(error)", file: file, line: line)
            XCTAssertEqual(error.key, key, "\(error)", file: file, line: line)
            XCTAssertTrue(reason.isEmpty || error.reason.contains(reason), "\(error)", file: file, line: line)
        }
    }

    func testWrongTypeNamesFileAndKey() throws {
        try assertConfigError(UNet2DConditionModel.self, #"{"layers_per_block": "two"}"#, key: "layers_per_block",
                              saying: "expected Int or a list of Int")
        try assertConfigError(UNet2DConditionModel.self, #"{"norm_eps": "small"}"#, key: "norm_eps", saying: "expected Double")
        try assertConfigError(AutoencoderKL.self, #"{"act_fn": 3}"#, key: "act_fn", saying: "expected String")
        try assertConfigError(AutoencoderKL.self, #"{"sample_size": "big"}"#, key: "sample_size", saying: "expected Int or a list of Int")
        try assertConfigError(CLIPTextModel.self, #"{"hidden_size": "wide"}"#, key: "hidden_size", saying: "expected Int")
        try assertConfigError(CLIPTextModel.self, #"{"layer_norm_eps": [1]}"#, key: "layer_norm_eps")
    }

    func testUnsupportedValueAndWrongClassNameNameFileAndKey() throws {
        try assertConfigError(UNet2DConditionModel.self, #"{"act_fn": "gelu"}"#, key: "act_fn", saying: "unsupported value gelu")
        try assertConfigError(UNet2DConditionModel.self, #"{"_class_name": "AutoencoderKL"}"#, key: "_class_name")
        try assertConfigError(AutoencoderKL.self, #"{"down_block_types": ["AttnDownEncoderBlock2D"]}"#, key: "down_block_types")
        try assertConfigError(CLIPTextModel.self, #"{"hidden_act": "swiglu"}"#, key: "hidden_act")
        try assertConfigError(CLIPTextModel.self, #"{"num_attention_heads": 7}"#, key: "num_attention_heads")
    }

    func testMissingConfigFileNamesThePath() throws {
        let path = directory.appendingPathComponent("config.json").path
        for load in [{ _ = try UNet2DConditionModel.loadConfig(directory: self.directory) },
                     { _ = try AutoencoderKL.loadConfig(directory: self.directory) },
                     { _ = try CLIPTextModel.loadConfig(directory: self.directory) }] as [() throws -> Void] {
            XCTAssertThrowsError(try load()) { error in
                XCTAssertEqual((error as? ConfigError)?.file, path, "\(error)")
                XCTAssertTrue("\(error)".contains(path), "\(error)")
            }
        }
    }

    func testInvalidJSONNamesThePath() throws {
        let path = try writeConfig(#"{"in_channels": "#)
        XCTAssertThrowsError(try AutoencoderKL.loadConfig(directory: directory)) { error in
            XCTAssertEqual((error as? ConfigError)?.file, path, "\(error)")
        }
    }

    /// `config` written as a component's config.json and read back is `config` again.
    private func assertRoundTrip<Model: ComponentModel>(_ model: Model.Type, _ config: Model.Config,
                                                        file: StaticString = #filePath, line: UInt = #line) throws {
        try config.validate()
        try ConfigFile.write(config, to: directory.appendingPathComponent("config.json"))
        XCTAssertEqual(try Model.loadConfig(directory: directory), config, file: file, line: line)
        XCTAssertNotEqual(config, Model.Config(), "the case should differ from the defaults", file: file, line: line)
    }

    func testWriteThenReadGivesTheSameConfig() throws {
        var unet = UNetConfig()
        unet.blockOutChannels = [32, 64]
        unet.downBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"]
        unet.upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"]
        unet.layersPerBlock = .list([1, 2])
        unet.numAttentionHeads = .list([2, 4])
        unet.sampleSize = .single(16)
        unet.midBlockType = nil
        unet.normEps = 1e-6
        unet.timeEmbeddingDim = 96
        try assertRoundTrip(UNet2DConditionModel.self, unet)

        var vae = AutoencoderKLConfig()
        vae.blockOutChannels = [32, 64]
        vae.downBlockTypes = ["DownEncoderBlock2D", "DownEncoderBlock2D"]
        vae.upBlockTypes = ["UpDecoderBlock2D", "UpDecoderBlock2D"]
        vae.scalingFactor = 0.2658539413701469
        vae.shiftFactor = -0.125
        vae.latentsMean = [0.5, -1.5, 0, 2]
        vae.sampleSize = 64
        try assertRoundTrip(AutoencoderKL.self, vae)

        var clip = CLIPTextConfig()
        clip.hiddenSize = 256
        clip.numAttentionHeads = 4
        clip.hiddenAct = "gelu"
        clip.layerNormEps = 1e-6
        clip.attentionDropout = 0.1
        try assertRoundTrip(CLIPTextModel.self, clip)
    }

    func testAbsentKeysAndNullsKeepDefaults() throws {
        _ = try writeConfig(#"{"sample_size": [48, 64], "scaling_factor": null, "shift_factor": null}"#)
        var expected = AutoencoderKLConfig()
        expected.sampleSize = 48
        XCTAssertEqual(try AutoencoderKL.loadConfig(directory: directory), expected)
        _ = try writeConfig(#"{"norm_num_groups": null, "mid_block_type": null, "in_channels": null}"#)
        let unet = try ConfigFile.read(UNetConfig.self, from: directory.appendingPathComponent("config.json"))
        XCTAssertNil(unet.normNumGroups)      // an optional's null is None
        XCTAssertNil(unet.midBlockType)
        XCTAssertEqual(unet.inChannels, 4)     // a non-optional's null keeps the default
    }

    func testEachKeyIsListedOnce() {
        for keys in [UNetConfig.keys, AutoencoderKLConfig.keys, CLIPTextConfig.keys] {
            XCTAssertEqual(Set(keys).count, keys.count, "\(keys)")
        }
        XCTAssertEqual(UNetConfig.key(\.crossAttentionDim), "cross_attention_dim")
        XCTAssertEqual(CLIPTextConfig.key(\.hiddenAct), "hidden_act")
    }

    /// The shipped model's configs, read and written as `save` writes them (fp16), come out byte for byte.
    func testShippedModelConfigsAreWrittenBackUnchanged() throws {
        let emoji = SharedData.repositoryRoot.appendingPathComponent("models/emoji")
        func assertWrittenBack<Model: ComponentModel>(_ model: Model.Type, _ component: String, dtype: SafetensorsDType,
                                                      file: StaticString = #filePath, line: UInt = #line) throws {
            let source = emoji.appendingPathComponent(component)
            let config = try Model.loadConfig(directory: source)
            let target = directory.appendingPathComponent(component + ".json")
            try ConfigFile.write(config, extra: Model.configExtras(for: config, dtype: dtype), to: target)
            XCTAssertEqual(try String(contentsOf: target, encoding: .utf8),
                           try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8),
                           component, file: file, line: line)
        }
        try assertWrittenBack(UNet2DConditionModel.self, "unet", dtype: .f16)
        try assertWrittenBack(AutoencoderKL.self, "vae", dtype: .f16)
        try assertWrittenBack(CLIPTextModel.self, "text_encoder", dtype: .f16)
    }
}
