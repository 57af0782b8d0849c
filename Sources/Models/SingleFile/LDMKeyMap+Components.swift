// The prefix tables of SD's three components, as diffusers' convert_diffusers_to_original_stable_diffusion.py numbers them.
extension LDMKeyMap {
    /// The U-Net's layout as the LDM numbering needs it.
    public struct UNetStructure: Equatable {
        public var levels: Int
        public var layersPerBlock: Int
        /// Per down level (highest resolution first) and per up level (lowest first): has a transformer.
        public var downAttention: [Bool]
        public var upAttention: [Bool]
        public var hasMidBlock: Bool

        public init(levels: Int, layersPerBlock: Int, downAttention: [Bool], upAttention: [Bool], hasMidBlock: Bool) {
            self.levels = levels
            self.layersPerBlock = layersPerBlock
            self.downAttention = downAttention
            self.upAttention = upAttention
            self.hasMidBlock = hasMidBlock
        }
    }

    /// `model.diffusion_model.*`: input_blocks hold conv_in, then per level L resnets (+ transformer)
    /// and a downsampler; output_blocks hold per up level L+1 resnets (+ transformer) and an upsampler.
    public static func unet(_ s: UNetStructure) -> LDMKeyMap {
        var rules = [Rule(diffusers: "time_embedding.linear_1.", ldm: "time_embed.0.", part: .plain),
                     Rule(diffusers: "time_embedding.linear_2.", ldm: "time_embed.2.", part: .plain),
                     Rule(diffusers: "conv_in.", ldm: "input_blocks.0.0.", part: .plain),
                     Rule(diffusers: "conv_norm_out.", ldm: "out.0.", part: .plain),
                     Rule(diffusers: "conv_out.", ldm: "out.2.", part: .plain)]
        let stride = s.layersPerBlock + 1
        for level in 0..<s.levels {
            for layer in 0..<s.layersPerBlock {
                let block = 1 + level * stride + layer
                rules.append(Rule(diffusers: "down_blocks.\(level).resnets.\(layer).", ldm: "input_blocks.\(block).0.", part: .unetResnet))
                if level < s.downAttention.count, s.downAttention[level] {
                    rules.append(Rule(diffusers: "down_blocks.\(level).attentions.\(layer).", ldm: "input_blocks.\(block).1.", part: .plain))
                }
            }
            if level < s.levels - 1 {
                rules.append(Rule(diffusers: "down_blocks.\(level).downsamplers.0.conv.", ldm: "input_blocks.\((level + 1) * stride).0.op.", part: .plain))
            }
            let upAttention = level < s.upAttention.count && s.upAttention[level]
            for layer in 0...s.layersPerBlock {
                let block = level * stride + layer
                rules.append(Rule(diffusers: "up_blocks.\(level).resnets.\(layer).", ldm: "output_blocks.\(block).0.", part: .unetResnet))
                if upAttention {
                    rules.append(Rule(diffusers: "up_blocks.\(level).attentions.\(layer).", ldm: "output_blocks.\(block).1.", part: .plain))
                }
            }
            if level < s.levels - 1 {
                rules.append(Rule(diffusers: "up_blocks.\(level).upsamplers.0.", ldm: "output_blocks.\(level * stride + s.layersPerBlock).\(upAttention ? 2 : 1).", part: .plain))
            }
        }
        if s.hasMidBlock {
            rules += [Rule(diffusers: "mid_block.resnets.0.", ldm: "middle_block.0.", part: .unetResnet),
                      Rule(diffusers: "mid_block.attentions.0.", ldm: "middle_block.1.", part: .plain),
                      Rule(diffusers: "mid_block.resnets.1.", ldm: "middle_block.2.", part: .unetResnet)]
        }
        return LDMKeyMap(component: "unet", ldmPrefix: "model.diffusion_model.", rules: rules)
    }

    /// The U-Net map for a diffusers U-Net config; `path` names the config's file in the error
    /// when its blocks cannot be numbered the LDM way (layers_per_block differing between blocks).
    public static func unet(config: UNetConfig, path: String) throws -> LDMKeyMap {
        let layers: Int
        switch config.layersPerBlock {
        case .single(let value): layers = value
        case .list(let values):
            guard let first = values.first, values.allSatisfy({ $0 == first }) else {
                throw SingleFileError.unsupported(path: path, reason: "layers_per_block \(values) differs between blocks; the LDM layout needs one value")
            }
            layers = first
        }
        return unet(UNetStructure(
            levels: config.blockOutChannels.count, layersPerBlock: layers,
            downAttention: config.downBlockTypes.map { $0.hasPrefix("CrossAttn") },
            upAttention: config.upBlockTypes.map { $0.hasPrefix("CrossAttn") }, hasMidBlock: config.midBlockType != nil))
    }

    /// `first_stage_model.*`: encoder.down.i.block.j, decoder.up numbered from the lowest resolution
    /// upwards (diffusers' up_blocks.0 is LDM's up.N-1), mid.block_1/attn_1/block_2.
    public static func vae(levels: Int, layersPerBlock: Int) -> LDMKeyMap {
        var rules: [Rule] = []
        for name in ["encoder.conv_in.", "encoder.conv_out.", "decoder.conv_in.", "decoder.conv_out.", "quant_conv.", "post_quant_conv."] {
            rules.append(Rule(diffusers: name, ldm: name, part: .plain))
        }
        for side in ["encoder", "decoder"] {
            rules += [Rule(diffusers: "\(side).conv_norm_out.", ldm: "\(side).norm_out.", part: .plain),
                      Rule(diffusers: "\(side).mid_block.resnets.0.", ldm: "\(side).mid.block_1.", part: .vaeResnet),
                      Rule(diffusers: "\(side).mid_block.attentions.0.", ldm: "\(side).mid.attn_1.", part: .vaeAttention),
                      Rule(diffusers: "\(side).mid_block.resnets.1.", ldm: "\(side).mid.block_2.", part: .vaeResnet)]
        }
        for level in 0..<levels {
            for layer in 0..<layersPerBlock {
                rules.append(Rule(diffusers: "encoder.down_blocks.\(level).resnets.\(layer).", ldm: "encoder.down.\(level).block.\(layer).", part: .vaeResnet))
            }
            let ldmUp = levels - 1 - level
            for layer in 0...layersPerBlock {
                rules.append(Rule(diffusers: "decoder.up_blocks.\(level).resnets.\(layer).", ldm: "decoder.up.\(ldmUp).block.\(layer).", part: .vaeResnet))
            }
            if level < levels - 1 {
                rules.append(Rule(diffusers: "encoder.down_blocks.\(level).downsamplers.0.", ldm: "encoder.down.\(level).downsample.", part: .plain))
                rules.append(Rule(diffusers: "decoder.up_blocks.\(level).upsamplers.0.", ldm: "decoder.up.\(ldmUp).upsample.", part: .plain))
            }
        }
        return LDMKeyMap(component: "vae", ldmPrefix: "first_stage_model.", rules: rules)
    }

    /// SD 1.x: transformers' CLIPTextModel, names unchanged, under `cond_stage_model.transformer.`.
    public static func clipText() -> LDMKeyMap {
        LDMKeyMap(component: "text_encoder", ldmPrefix: "cond_stage_model.transformer.",
                  rules: [Rule(diffusers: "text_model.", ldm: "text_model.", part: .plain)])
    }

    /// SD 2.x: OpenCLIP's text tower under `cond_stage_model.model.` (the first `layers` resblocks).
    public static func openCLIPText(layers: Int) -> LDMKeyMap {
        var rules = [Rule(diffusers: "text_model.embeddings.token_embedding.", ldm: "token_embedding.", part: .plain),
                     Rule(diffusers: "text_model.embeddings.position_embedding.weight", ldm: "positional_embedding", part: .plain),
                     Rule(diffusers: "text_model.final_layer_norm.", ldm: "ln_final.", part: .plain)]
        for layer in 0..<max(layers, 0) {
            rules.append(Rule(diffusers: "text_model.encoder.layers.\(layer).", ldm: "transformer.resblocks.\(layer).", part: .openCLIPLayer))
        }
        return LDMKeyMap(component: "text_encoder", ldmPrefix: "cond_stage_model.model.", rules: rules)
    }
}
