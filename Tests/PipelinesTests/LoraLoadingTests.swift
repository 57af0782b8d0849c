// LoRA files on the tiny pipeline against diffusers' load_lora_weights images (fixtures/lora).
import Foundation
import Models
import NN
import Pipelines
import TensorCore
import TestSupport
import XCTest

final class LoraLoadingTests: XCTestCase {
    private func fixture(_ name: String) throws -> URL { try SharedData.url("fixtures/lora/\(name)") }

    /// A fresh pipeline (merging changes weights), the LoRA applied, and the meta.json request.
    private func image(lora: String?, scale: Float = 1) throws -> Tensor {
        let model = try StableDiffusion.load(directory: try SharedData.url("fixtures/diffusers-tiny"))
        if let lora { try model.applyLoRA(contentsOf: try fixture(lora), scale: scale) }
        return try image(model: model)
    }

    /// The meta.json request ("a red apple", 4 steps, guidance 5, 64×64, the reference latents).
    private func image(model: StableDiffusion) throws -> Tensor {
        let reference = try SafetensorsFile(contentsOf: try fixture("reference.safetensors"))
        var request = GenerationRequest(prompt: "a red apple")
        request.steps = 4
        request.guidance = 5
        request.width = 64
        request.height = 64
        request.latents = try Tensor(shape: reference.shape("latents"), values: reference.floats("latents"))
        return try model.generate(request).images.imagesToUnitNHWC()   // [1, 64, 64, 3]
    }

    private func expected(_ name: String) throws -> Tensor {
        let reference = try SafetensorsFile(contentsOf: try fixture("reference.safetensors"))
        return try Tensor(shape: reference.shape(name), values: reference.floats(name))
    }

    func testBaseMatchesDiffusers() throws {
        assertClose(try image(lora: nil), try expected("base"), absolute: 1e-3, "base")
    }

    func testDiffusersFileAtScaleOne() throws {
        assertClose(try image(lora: "lora_diffusers.safetensors"), try expected("lora"), absolute: 1e-3, "lora scale 1")
    }

    func testDiffusersFileAtHalfScale() throws {
        assertClose(try image(lora: "lora_diffusers.safetensors", scale: 0.5), try expected("lora_half"), absolute: 1e-3, "lora scale 0.5")
    }

    /// A LoRA merged into weights stored in bf16 (as `diffuse --precision bf16` loads a model)
    /// is the float32 merge onto the rounded base, rounded once: within one bf16 step of
    /// bf16(bf16(W) + ΔW), with ΔW from the float32 merge.
    func testMergesIntoWeightsStoredInBFloat16() throws {
        let (stored, float32, base) = (try PipelineFixture.freshModel(), try PipelineFixture.freshModel(), try PipelineFixture.freshModel())
        stored.storeWeightsInBFloat16()
        let lora = try fixture("lora_diffusers.safetensors")
        try stored.applyLoRA(contentsOf: lora)
        try float32.applyLoRA(contentsOf: lora)
        func parameters(_ model: StableDiffusion) -> [(key: String, parameter: Parameter)] {
            model.unet.namedParameters() + model.textEncoder.namedParameters()
        }
        func bf16(_ value: Float) -> Float { Float16Conversion.float(fromBFloat16Bits: Float16Conversion.bfloat16Bits(from: value)) }
        var (checked, moved) = (0, 0)
        for ((a, b), c) in zip(zip(parameters(stored), parameters(float32)), parameters(base)) where a.parameter.value.isBFloat16 {
            let merged = a.parameter.value.values, exact = b.parameter.value.values, original = c.parameter.value.values
            for i in merged.indices {
                let expected = bf16(bf16(original[i]) + (exact[i] - original[i]))
                if abs(merged[i] - expected) > abs(expected) / 128 {
                    XCTFail("\(a.key)[\(i)]: \(merged[i]) merged in bf16, expected \(expected)")
                    break
                }
            }
            checked += 1
            if exact != original { moved += 1 }
        }
        XCTAssertGreaterThan(checked, 0, "the U-Net and text encoder have weights stored in bf16")
        XCTAssertGreaterThan(moved, 0, "the LoRA changes some of them")
    }

    func testKohyaFileIsHalfStrength() throws {
        assertClose(try image(lora: "lora_kohya.safetensors"), try expected("kohya"), absolute: 1e-3, "kohya")
    }

    /// The fixture's kohya file renamed to the original SD U-Net numbering (A1111-era names): the
    /// tiny U-Net's down_blocks.1 attentions are input_blocks.4/5 (1 + level·(layers + 1) + layer),
    /// its mid attention middle_block.1, up_blocks.0's output_blocks.0–2; the text encoder keeps
    /// lora_te_text_model_…, which is already the original layout's name. Same image as diffusers.
    func testKohyaFileWithOriginalSDNames() throws {
        let kohya = try SafetensorsFile(contentsOf: try fixture("lora_kohya.safetensors"))
        let renames = [("lora_unet_down_blocks_1_attentions_0_", "lora_unet_input_blocks_4_1_"),
                       ("lora_unet_down_blocks_1_attentions_1_", "lora_unet_input_blocks_5_1_"),
                       ("lora_unet_mid_block_attentions_0_", "lora_unet_middle_block_1_"),
                       ("lora_unet_up_blocks_0_attentions_0_", "lora_unet_output_blocks_0_1_"),
                       ("lora_unet_up_blocks_0_attentions_1_", "lora_unet_output_blocks_1_1_"),
                       ("lora_unet_up_blocks_0_attentions_2_", "lora_unet_output_blocks_2_1_")]
        var writer = SafetensorsWriter()
        for name in kohya.names {
            var renamed = name
            for (diffusers, ldm) in renames where name.hasPrefix(diffusers) { renamed = ldm + name.dropFirst(diffusers.count) }
            XCTAssertFalse(renamed.contains("down_blocks") || renamed.contains("up_blocks") || renamed.contains("mid_block_"), "\(name) kept its diffusers name")
            try writer.add(renamed, shape: kohya.shape(name), floats: kohya.floats(name))
        }
        let original = try SafetensorsFile(data: writer.serialized(), path: "original-names.safetensors")
        let model = try StableDiffusion.load(directory: try SharedData.url("fixtures/diffusers-tiny"))
        try model.applyLoRA(LoRAFile(file: original))
        assertClose(try image(model: model), try expected("kohya"), absolute: 1e-3, "kohya file with original SD names")

        // A block the U-Net does not have is an error naming the key.
        var bad = SafetensorsWriter()
        try bad.add("lora_unet_input_blocks_7_1_proj_in.lora_down.weight", shape: [2, 64, 1, 1], floats: Array(repeating: 1e-3, count: 128))
        try bad.add("lora_unet_input_blocks_7_1_proj_in.lora_up.weight", shape: [64, 2, 1, 1], floats: Array(repeating: 1e-3, count: 128))
        let badFile = try LoRAFile(file: try SafetensorsFile(data: bad.serialized(), path: "bad.safetensors"))
        XCTAssertThrowsError(try model.applyLoRA(badFile)) { error in
            XCTAssertTrue("\(error)".contains("lora_unet_input_blocks_7_1_proj_in"), "\(error)")
        }
    }

    func testReadsFormatsRanksAndAlphas() throws {
        let peft = try LoRAFile(contentsOf: try fixture("lora_diffusers.safetensors"))
        XCTAssertEqual(peft.format, .diffusers)
        XCTAssertEqual(peft.adapters.count, 68)
        XCTAssertEqual(peft.ranks, [4])
        XCTAssertEqual(peft.alphas, [4])
        let kohya = try LoRAFile(contentsOf: try fixture("lora_kohya.safetensors"))
        XCTAssertEqual(kohya.format, .kohya)
        XCTAssertEqual(kohya.adapters.count, 68)
        XCTAssertEqual(kohya.alphas, [2])
        XCTAssertEqual(kohya.parameterCount, peft.parameterCount)
    }

    /// A key naming no module, or a wrong shape, is an error naming the key; nothing is merged.
    func testUnknownModuleAndWrongShapeNameTheKey() throws {
        let model = try StableDiffusion.load(directory: try SharedData.url("fixtures/diffusers-tiny"))
        let before = model.unet.namedParameters().map { $0.parameter.value.values }
        var writer = SafetensorsWriter()
        try writer.add("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora_A.weight", shape: [2, 64], floats: Array(repeating: 1e-3, count: 128))
        try writer.add("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q.lora_B.weight", shape: [64, 2], floats: Array(repeating: 1e-3, count: 128))
        try writer.add("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_nothing.lora_A.weight", shape: [2, 64], floats: Array(repeating: 1e-3, count: 128))
        try writer.add("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_nothing.lora_B.weight", shape: [64, 2], floats: Array(repeating: 1e-3, count: 128))
        let file = try LoRAFile(file: try SafetensorsFile(data: writer.serialized(), path: "bad.safetensors"))
        XCTAssertThrowsError(try model.applyLoRA(file)) { error in
            XCTAssertTrue("\(error)".contains("to_nothing"), "\(error)")
        }
        XCTAssertEqual(model.unet.namedParameters().map { $0.parameter.value.values }, before, "nothing merged")

        var shapes = SafetensorsWriter()
        try shapes.add("lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q.lora_down.weight", shape: [2, 7], floats: Array(repeating: 1, count: 14))
        try shapes.add("lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q.lora_up.weight", shape: [64, 2], floats: Array(repeating: 1e-3, count: 128))
        let wrong = try LoRAFile(file: try SafetensorsFile(data: shapes.serialized(), path: "shape.safetensors"))
        XCTAssertThrowsError(try model.applyLoRA(wrong)) { error in
            XCTAssertTrue("\(error)".contains("lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q"), "\(error)")
        }
    }
}
