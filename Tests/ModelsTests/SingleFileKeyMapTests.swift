// LDM ↔ diffusers key maps against diffusers' conversion tables, and family recognition from keys.
import Foundation
import Models
import TensorCore
import TestSupport
import XCTest

final class SingleFileKeyMapTests: XCTestCase {
    /// SD's own U-Net: 4 levels, 2 resnets a level, no transformer at the lowest resolution.
    private let sd = LDMKeyMap.UNetStructure(levels: 4, layersPerBlock: 2, downAttention: [true, true, true, false],
                                             upAttention: [false, true, true, true], hasMidBlock: true)

    private func assertMaps(_ map: LDMKeyMap, _ diffusers: String, _ ldm: String, _ transform: LDMTransform = .same,
                            file: StaticString = #filePath, line: UInt = #line) {
        let forward = map.ldm(forDiffusers: diffusers)
        XCTAssertEqual(forward?.key, ldm, diffusers, file: file, line: line)
        XCTAssertEqual(forward?.transform, transform, diffusers, file: file, line: line)
        let back = map.diffusers(forLDM: ldm) ?? []
        XCTAssertTrue(back.contains { $0.key == diffusers && $0.transform == transform }, "\(ldm) → \(back)", file: file, line: line)
    }

    /// Entries of diffusers' unet_conversion_map / unet_conversion_map_layer / resnet map.
    func testUNetNamesFollowDiffusersConversionScript() {
        let map = LDMKeyMap.unet(sd)
        let p = "model.diffusion_model."
        assertMaps(map, "time_embedding.linear_1.weight", p + "time_embed.0.weight")
        assertMaps(map, "time_embedding.linear_2.bias", p + "time_embed.2.bias")
        assertMaps(map, "conv_in.weight", p + "input_blocks.0.0.weight")
        assertMaps(map, "conv_norm_out.bias", p + "out.0.bias")
        assertMaps(map, "conv_out.weight", p + "out.2.weight")
        assertMaps(map, "down_blocks.0.resnets.0.norm1.weight", p + "input_blocks.1.0.in_layers.0.weight")
        assertMaps(map, "down_blocks.0.resnets.1.conv1.weight", p + "input_blocks.2.0.in_layers.2.weight")
        assertMaps(map, "down_blocks.1.resnets.0.time_emb_proj.bias", p + "input_blocks.4.0.emb_layers.1.bias")
        assertMaps(map, "down_blocks.1.resnets.0.conv_shortcut.weight", p + "input_blocks.4.0.skip_connection.weight")
        assertMaps(map, "down_blocks.1.attentions.1.proj_in.weight", p + "input_blocks.5.1.proj_in.weight")
        assertMaps(map, "down_blocks.2.downsamplers.0.conv.weight", p + "input_blocks.9.0.op.weight")
        assertMaps(map, "down_blocks.3.resnets.1.norm2.bias", p + "input_blocks.11.0.out_layers.0.bias")
        assertMaps(map, "mid_block.resnets.0.conv2.weight", p + "middle_block.0.out_layers.3.weight")
        assertMaps(map, "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight", p + "middle_block.1.transformer_blocks.0.attn2.to_k.weight")
        assertMaps(map, "mid_block.resnets.1.norm1.weight", p + "middle_block.2.in_layers.0.weight")
        assertMaps(map, "up_blocks.0.resnets.2.conv1.bias", p + "output_blocks.2.0.in_layers.2.bias")
        assertMaps(map, "up_blocks.0.upsamplers.0.conv.weight", p + "output_blocks.2.1.conv.weight")   // no transformer: slot 1
        assertMaps(map, "up_blocks.1.upsamplers.0.conv.weight", p + "output_blocks.5.2.conv.weight")   // after the transformer: slot 2
        assertMaps(map, "up_blocks.3.attentions.2.transformer_blocks.0.ff.net.0.proj.weight",
                   p + "output_blocks.11.1.transformer_blocks.0.ff.net.0.proj.weight")
        XCTAssertNil(map.ldm(forDiffusers: "up_blocks.3.upsamplers.0.conv.weight"), "the top level has no upsampler")
        XCTAssertNil(map.diffusers(forLDM: "first_stage_model.encoder.conv_in.weight"), "another component's key")
    }

    /// vae_conversion_map: LDM numbers decoder levels from the lowest resolution; attention is 1×1 convs.
    func testVAENamesAndSqueezedAttention() {
        let map = LDMKeyMap.vae(levels: 4, layersPerBlock: 2)
        let p = "first_stage_model."
        assertMaps(map, "encoder.conv_norm_out.weight", p + "encoder.norm_out.weight")
        assertMaps(map, "encoder.down_blocks.1.resnets.0.conv_shortcut.weight", p + "encoder.down.1.block.0.nin_shortcut.weight")
        assertMaps(map, "encoder.down_blocks.2.downsamplers.0.conv.bias", p + "encoder.down.2.downsample.conv.bias")
        assertMaps(map, "decoder.up_blocks.0.resnets.2.norm1.weight", p + "decoder.up.3.block.2.norm1.weight")
        assertMaps(map, "decoder.up_blocks.2.upsamplers.0.conv.weight", p + "decoder.up.1.upsample.conv.weight")
        assertMaps(map, "decoder.mid_block.resnets.1.conv2.weight", p + "decoder.mid.block_2.conv2.weight")
        assertMaps(map, "encoder.mid_block.attentions.0.group_norm.bias", p + "encoder.mid.attn_1.norm.bias")
        assertMaps(map, "encoder.mid_block.attentions.0.to_q.weight", p + "encoder.mid.attn_1.q.weight", .squeezed)
        assertMaps(map, "decoder.mid_block.attentions.0.to_out.0.weight", p + "decoder.mid.attn_1.proj_out.weight", .squeezed)
        assertMaps(map, "decoder.mid_block.attentions.0.to_v.bias", p + "decoder.mid.attn_1.v.bias")
        assertMaps(map, "post_quant_conv.weight", p + "post_quant_conv.weight")
        XCTAssertEqual(LDMTransform.squeezed.ldmShape([64, 64]), [64, 64, 1, 1])
        XCTAssertEqual(LDMTransform.squeezed.diffusersShape([64, 64, 1, 1]), [64, 64])
        XCTAssertNil(LDMTransform.squeezed.diffusersShape([64, 64, 3, 3]))
    }

    /// convert_open_clip_checkpoint: in_proj stacks q, k, v on dim 0.
    func testOpenCLIPFusedProjections() {
        let map = LDMKeyMap.openCLIPText(layers: 23)
        let p = "cond_stage_model.model."
        assertMaps(map, "text_model.embeddings.token_embedding.weight", p + "token_embedding.weight")
        assertMaps(map, "text_model.embeddings.position_embedding.weight", p + "positional_embedding")
        assertMaps(map, "text_model.final_layer_norm.weight", p + "ln_final.weight")
        assertMaps(map, "text_model.encoder.layers.22.layer_norm1.bias", p + "transformer.resblocks.22.ln_1.bias")
        assertMaps(map, "text_model.encoder.layers.0.mlp.fc2.weight", p + "transformer.resblocks.0.mlp.c_proj.weight")
        assertMaps(map, "text_model.encoder.layers.5.self_attn.q_proj.weight", p + "transformer.resblocks.5.attn.in_proj_weight", .third(0))
        assertMaps(map, "text_model.encoder.layers.5.self_attn.k_proj.bias", p + "transformer.resblocks.5.attn.in_proj_bias", .third(1))
        assertMaps(map, "text_model.encoder.layers.5.self_attn.out_proj.weight", p + "transformer.resblocks.5.attn.out_proj.weight")
        XCTAssertEqual(map.diffusers(forLDM: p + "transformer.resblocks.5.attn.in_proj_weight")?.map(\.key),
                       ["q", "k", "v"].map { "text_model.encoder.layers.5.self_attn.\($0)_proj.weight" })
        XCTAssertNil(map.diffusers(forLDM: p + "transformer.resblocks.23.ln_1.weight"), "layer 24 is not part of a 23-layer encoder")
        XCTAssertEqual(LDMTransform.third(2).ldmShape([1024, 1024]), [3072, 1024])
        XCTAssertEqual(LDMTransform.third(0).diffusersShape([3072]), [1024])
        assertMaps(LDMKeyMap.clipText(), "text_model.encoder.layers.0.self_attn.q_proj.weight",
                   "cond_stage_model.transformer.text_model.encoder.layers.0.self_attn.q_proj.weight")
    }

    /// Every tensor of both fixture files maps to diffusers names and back to itself.
    func testEveryFixtureKeyRoundTrips() throws {
        for name in ["sd1", "sd2"] {
            let checkpoint = try SingleFileFixture.checkpoint(name)
            let configs = try SingleFileFixture.configs(name)
            let maps = try checkpoint.keyMaps(configs)
            var mapped = 0
            for key in checkpoint.file.names {
                if SingleFileCheckpoint.isIgnored(key, family: checkpoint.family, textLayers: configs.text.numHiddenLayers) { continue }
                let map = try XCTUnwrap(maps.first { key.hasPrefix($0.ldmPrefix) }, "\(name): \(key) has no component")
                let targets = try XCTUnwrap(map.diffusers(forLDM: key), "\(name): \(key) has no diffusers name")
                for target in targets { XCTAssertEqual(map.ldm(forDiffusers: target.key)?.key, key, "\(name): \(target.key)") }
                mapped += 1
            }
            XCTAssertEqual(mapped, name == "sd1" ? 980 : 968, name)
        }
    }

    func testFamiliesAndKindsAreRecognisedFromKeys() throws {
        XCTAssertEqual(try SingleFileFixture.checkpoint("sd1").family, .sd1)
        XCTAssertEqual(try SingleFileFixture.checkpoint("sd2").family, .sd2)
        XCTAssertEqual(CheckpointKind.classify(try SafetensorsFile(contentsOf: SingleFileFixture.file("sd1")).names), .stableDiffusion1)
        XCTAssertEqual(CheckpointKind.classify(try SafetensorsFile(contentsOf: SingleFileFixture.file("sd2")).names), .stableDiffusion2)
        XCTAssertEqual(CheckpointKind.classify(["encoder.down.0.block.0.conv1.weight", "decoder.conv_out.weight"]), .vae(ldm: true))
        XCTAssertEqual(CheckpointKind.classify(["encoder.down_blocks.0.resnets.0.conv1.weight"]), .vae(ldm: false))
        XCTAssertEqual(CheckpointKind.classify(["lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight"]), .lora(kohya: true))
        XCTAssertEqual(CheckpointKind.classify(["unet.down_blocks.0.attentions.0.proj_in.lora_A.weight"]), .lora(kohya: false))
        XCTAssertEqual(CheckpointKind.classify(["text_model.encoder.layers.0.mlp.fc1.weight"]), .textEncoder)
        XCTAssertEqual(CheckpointKind.classify(["something.else"]), .unknown)
    }
}
