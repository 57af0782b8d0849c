// kohya/A1111 LoRA names in the original SD U-Net numbering (`lora_unet_input_blocks_1_1_proj_in`,
// `lora_unet_middle_block_1_transformer_blocks_0_attn2_to_k`), as A1111-era tools write them,
// mapped to this U-Net's diffusers module paths through the single-file key map.

extension UNet2DConditionModel {
    /// Each LoRA target's LDM module path with underscores (`input_blocks_1_1_transformer_blocks_0_attn1_to_q`)
    /// → its diffusers module path (`down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q`).
    /// Empty for a U-Net whose blocks the LDM layout cannot number (layers_per_block differing).
    public func ldmLoRANames() -> [String: String] {
        guard let map = try? LDMKeyMap.unet(config: config, path: "unet") else { return [:] }
        var names: [String: String] = [:]
        for path in loraTargets().byPath.keys {
            guard let (ldm, _) = map.ldm(forDiffusers: path + ".weight"), ldm.hasSuffix(".weight") else { continue }
            let module = ldm.dropFirst(map.ldmPrefix.count).dropLast(".weight".count)
            names[module.replacingOccurrences(of: ".", with: "_")] = path
        }
        return names
    }
}
