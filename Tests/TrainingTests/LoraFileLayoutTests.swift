// The file train-lora writes, checked against the names and shapes diffusers' load_lora_weights
// expects, with no fixture: a small model built here, its expected keys listed from diffusers'
// module tree (not from Diffuse's own walk of the model).
import Foundation
import Imaging
import Models
import Pipelines
import TensorCore
import TestSupport
import Training
import XCTest

final class LoraFileLayoutTests: XCTestCase {
    private var temporaries: [URL] = []
    override func tearDown() { for url in temporaries { try? FileManager.default.removeItem(at: url) } }

    private func temporary(_ name: String) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("diffuse-lora-layout-\(UUID().uuidString)-\(name)")
        temporaries.append(url)
        return url
    }

    private let channels = [32, 64], context = 48, textWidth = 48, textLayers = 2, rank = 2
    private let alpha: Float = 4

    /// A random model: U-Net with attention at the top down level and the top up level (up_blocks.1)
    /// and in the middle; one resnet a level; text width 48 so cross-attention's to_k/to_v differ in shape.
    private func model() throws -> StableDiffusion {
        var unet = UNetConfig()
        unet.blockOutChannels = channels
        unet.downBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"]
        unet.upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"]
        unet.layersPerBlock = .single(1)
        unet.normNumGroups = 8
        unet.crossAttentionDim = .single(context)
        var text = CLIPTextConfig()
        text.hiddenSize = textWidth
        text.intermediateSize = 64
        text.numHiddenLayers = textLayers
        text.numAttentionHeads = 4
        var vae = AutoencoderKLConfig()
        vae.blockOutChannels = [16, 32]
        vae.downBlockTypes = Array(repeating: "DownEncoderBlock2D", count: 2)
        vae.upBlockTypes = Array(repeating: "UpDecoderBlock2D", count: 2)
        vae.normNumGroups = 8
        let tokenizer = SharedData.repositoryRoot.appendingPathComponent("models/clip-tokenizer")
        return StableDiffusion(directory: temporary("model"), tokenizer: try CLIPTokenizer(directory: tokenizer),
                               textEncoder: try CLIPTextModel(config: text), unet: try UNet2DConditionModel(config: unet),
                               vae: try AutoencoderKL(config: vae),
                               schedulerConfig: try StableDiffusion.singleFileSchedulerConfig(predictionType: .epsilon))
    }

    /// diffusers' module names: `<block>.attentions.<i>.transformer_blocks.0.attn{1,2}.<projection>`,
    /// with in/out widths; attn2's to_k and to_v read the text (`cross_attention_dim` wide).
    private func expectedShapes() -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        func attention(_ block: String, width: Int) {
            for (attn, keyWidth) in [("attn1", width), ("attn2", context)] {
                for (projection, inWidth) in [("to_q", width), ("to_k", keyWidth), ("to_v", keyWidth), ("to_out.0", width)] {
                    let module = "unet.\(block).transformer_blocks.0.\(attn).\(projection)"
                    shapes[module + ".lora_A.weight"] = [rank, inWidth]
                    shapes[module + ".lora_B.weight"] = [width, rank]
                }
            }
        }
        attention("down_blocks.0.attentions.0", width: channels[0])                     // layers_per_block 1
        attention("mid_block.attentions.0", width: channels[1])
        for i in 0..<2 { attention("up_blocks.1.attentions.\(i)", width: channels[0]) }  // layers_per_block + 1
        for layer in 0..<textLayers {
            for projection in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                let module = "text_encoder.text_model.encoder.layers.\(layer).self_attn.\(projection)"
                shapes[module + ".lora_A.weight"] = [rank, textWidth]
                shapes[module + ".lora_B.weight"] = [textWidth, rank]
            }
        }
        return shapes
    }

    func testWrittenKeysShapesAndMetadataAreWhatDiffusersLoads() throws {
        let data = temporary("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for i in 0..<2 {
            try Image(width: 16, height: 16, channels: 3, color: [UInt8(40 * i), 120, 200]).writePNG(to: data.appendingPathComponent("\(i).png"))
        }
        var options = LoRATrainingOptions()
        options.rank = rank
        options.alpha = alpha
        options.targets = .unetAndText
        options.caption = "a sks icon"
        options.common.resolution = 16
        options.common.quiet = true
        let output = temporary("sks.safetensors")
        let trainer = try LoRATrainer(model: try model(), data: try CaptionedImageFolder(directory: data, resolution: 16),
                                      output: output, trainingDirectory: temporary("training"), options: options)
        // B starts at zero; give every matrix distinct values so the written scaling shows.
        for (index, adapter) in trainer.adapters.enumerated() {
            let count = adapter.parameter.value.count
            try adapter.parameter.assign(Tensor(shape: adapter.parameter.shape, values: (0..<count).map { Float(index + 1) + Float($0) / 64 }))
        }
        try trainer.save(to: output)

        let file = try SafetensorsFile(contentsOf: output)
        let expected = expectedShapes()
        XCTAssertEqual(Set(file.names), Set(expected.keys), "keys diffusers' load_lora_weights maps onto this model")
        for name in file.names {
            XCTAssertEqual(try file.shape(name), expected[name], name)
            XCTAssertEqual(try file.dtype(name), .f32, name)
        }
        // B carries alpha/rank, so a loader that takes alpha = rank (the metadata says so) gets the trained delta.
        for (key, parameter) in trainer.adapters {
            let factor: Float = key.hasSuffix(".lora_B.weight") ? alpha / Float(rank) : 1
            XCTAssertEqual(try file.floats(key), parameter.value.values.map { $0 * factor }, key)
        }
        XCTAssertEqual(file.metadata["format"], "pt")
        let json = try XCTUnwrap(file.metadata["lora_adapter_metadata"], "diffusers reads the adapter configs here")
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        // diffusers passes each component's fields to peft's LoraConfig(**fields) after reading
        // rank_pattern and target_modules: all must be LoraConfig fields, and those two present.
        let loraConfigFields: Set = ["r", "lora_alpha", "target_modules", "rank_pattern", "alpha_pattern", "init_lora_weights",
                                     "lora_dropout", "use_dora", "lora_bias", "bias", "use_rslora"]
        for key in config.keys {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            XCTAssertTrue(["unet", "text_encoder"].contains(parts[0]) && loraConfigFields.contains(parts.last ?? ""), "metadata field \(key)")
        }
        for (component, layers) in [("unet", ["to_q", "to_k", "to_v", "to_out.0"]), ("text_encoder", ["q_proj", "k_proj", "v_proj", "out_proj"])] {
            XCTAssertEqual((config["\(component).rank_pattern"] as? [String: Any])?.count, 0, component)
            XCTAssertEqual((config["\(component).alpha_pattern"] as? [String: Any])?.count, 0, component)
            XCTAssertEqual(config["\(component).r"] as? Int, rank, component)
            XCTAssertEqual(config["\(component).lora_alpha"] as? Int, rank, "\(component): alpha = rank, the factor is in B")
            XCTAssertEqual(Set(config["\(component).target_modules"] as? [String] ?? []), Set(layers), component)
        }
        // And Diffuse's own loader reads it back as the same deltas at alpha = rank.
        let lora = try LoRAFile(contentsOf: output)
        XCTAssertEqual(lora.format, .diffusers)
        XCTAssertEqual(lora.adapters.count, expected.count / 2)
        XCTAssertEqual(lora.alphas, [Float(rank)])
    }
}
