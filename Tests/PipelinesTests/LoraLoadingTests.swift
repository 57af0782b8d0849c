// LoRA files on the tiny pipeline against diffusers' load_lora_weights images (fixtures/lora).
import Foundation
import Models
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

    func testKohyaFileIsHalfStrength() throws {
        assertClose(try image(lora: "lora_kohya.safetensors"), try expected("kohya"), absolute: 1e-3, "kohya")
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
