// The configs of a single file: read from a diffusers folder, or inferred from tensor shapes with SD's conventions.
import Foundation
import TensorCore

extension SingleFileCheckpoint {
    /// unet/, vae/ and text_encoder/ config.json of a diffusers folder (weights not needed).
    public static func readConfigs(folder: URL) throws -> Configs {
        Configs(unet: try UNet2DConditionModel.loadConfig(directory: folder.appendingPathComponent("unet")),
                vae: try AutoencoderKL.loadConfig(directory: folder.appendingPathComponent("vae")),
                text: try CLIPTextModel.loadConfig(directory: folder.appendingPathComponent("text_encoder")))
    }

    /// Sizes from shapes; what shapes cannot tell follows SD: SD 1.x has 8 heads per U-Net block and
    /// a 12-head CLIP ViT-L; SD 2.x heads are 64 wide and its text encoder stops at the penultimate
    /// of its blocks. 9 input channels (an inpainting model) come from conv_in's shape.
    public func inferConfigs() throws -> Configs {
        Configs(unet: try inferUNetConfig(), vae: try inferVAEConfig(), text: try inferTextConfig())
    }

    private func shape(_ key: String, rank: Int) throws -> [Int] {
        guard file.contains(key) else { throw SingleFileError.cannotInfer(path: url.path, key: key, reason: "the key is missing") }
        let shape = try file.shape(key)
        guard shape.count == rank, shape.allSatisfy({ $0 > 0 }) else {
            throw SingleFileError.cannotInfer(path: url.path, key: key, reason: "shape \(shape), expected \(rank) positive dimensions")
        }
        return shape
    }

    /// How many of `key(0)`, `key(1)`, … the file holds, in a row.
    private func count(_ key: (Int) -> String) -> Int {
        var n = 0
        while file.contains(key(n)) { n += 1 }
        return n
    }

    func inferUNetConfig() throws -> UNetConfig {
        let p = "model.diffusion_model."
        let convIn = try shape(p + "input_blocks.0.0.weight", rank: 4)                               // [C, in, 3, 3]
        let layers = count { p + "input_blocks.\($0 + 1).0.in_layers.0.weight" }
        guard layers > 0 else { throw SingleFileError.cannotInfer(path: url.path, key: p + "input_blocks.1.0.in_layers.0.weight", reason: "the key is missing") }
        let inputBlocks = file.names.compactMap { name -> Int? in
            guard name.hasPrefix(p + "input_blocks.") else { return nil }
            return Int(name.dropFirst((p + "input_blocks.").count).prefix { $0 != "." })
        }.max() ?? 0
        let levels = (inputBlocks + 1) / (layers + 1)
        var channels: [Int] = [], down: [Bool] = [], up: [Bool] = []
        for level in 0..<levels {
            let block = 1 + level * (layers + 1)
            channels.append(try shape(p + "input_blocks.\(block).0.out_layers.3.weight", rank: 4)[0])
            down.append(file.contains(p + "input_blocks.\(block).1.proj_in.weight"))
            up.append(file.contains(p + "output_blocks.\(level * (layers + 1)).1.proj_in.weight"))
        }
        guard let firstAttention = file.names.first(where: { $0.hasPrefix(p) && $0.hasSuffix(".proj_in.weight") }) else {
            throw SingleFileError.cannotInfer(path: url.path, key: p + "input_blocks.1.1.proj_in.weight", reason: "no transformer block in the U-Net")
        }
        let attention = String(firstAttention.dropLast("proj_in.weight".count))
        let context = try shape(attention + "transformer_blocks.0.attn2.to_k.weight", rank: 2)[1]
        let depth = count { attention + "transformer_blocks.\($0).norm1.weight" }

        var config = UNetConfig()
        config.inChannels = convIn[1]
        config.outChannels = try shape(p + "out.2.weight", rank: 4)[0]
        config.blockOutChannels = channels
        config.layersPerBlock = .single(layers)
        config.downBlockTypes = down.map { $0 ? "CrossAttnDownBlock2D" : "DownBlock2D" }
        config.upBlockTypes = up.map { $0 ? "CrossAttnUpBlock2D" : "UpBlock2D" }
        config.midBlockType = file.contains(p + "middle_block.1.proj_in.weight") ? "UNetMidBlock2DCrossAttn" : nil
        config.crossAttentionDim = .single(context)
        config.transformerLayersPerBlock = .single(max(depth, 1))
        config.useLinearProjection = try file.shape(firstAttention).count == 2
        switch family {
        case .sd1: config.attentionHeadDim = .single(8)                           // SD 1.x: 8 heads everywhere
        case .sd2: config.attentionHeadDim = .list(channels.map { max($0 / 64, 1) })  // SD 2.x: 64-wide heads
        }
        config.sampleSize = .single(family == .sd1 ? 64 : 96)
        return config
    }

    func inferVAEConfig() throws -> AutoencoderKLConfig {
        let p = "first_stage_model."
        let levels = count { p + "encoder.down.\($0).block.0.conv1.weight" }
        let layers = count { p + "encoder.down.0.block.\($0).conv1.weight" }
        guard levels > 0, layers > 0 else {
            throw SingleFileError.cannotInfer(path: url.path, key: p + "encoder.down.0.block.0.conv1.weight", reason: "the key is missing")
        }
        var config = AutoencoderKLConfig()
        config.inChannels = try shape(p + "encoder.conv_in.weight", rank: 4)[1]
        config.outChannels = try shape(p + "decoder.conv_out.weight", rank: 4)[0]
        config.blockOutChannels = try (0..<levels).map { try shape(p + "encoder.down.\($0).block.0.conv2.weight", rank: 4)[0] }
        config.layersPerBlock = layers
        config.downBlockTypes = Array(repeating: "DownEncoderBlock2D", count: levels)
        config.upBlockTypes = Array(repeating: "UpDecoderBlock2D", count: levels)
        config.latentChannels = try shape(p + "decoder.conv_in.weight", rank: 4)[1]
        config.useQuantConv = file.contains(p + "quant_conv.weight")
        config.usePostQuantConv = file.contains(p + "post_quant_conv.weight")
        config.sampleSize = family == .sd1 ? 512 : 768
        config.scalingFactor = 0.18215
        return config
    }

    func inferTextConfig() throws -> CLIPTextConfig {
        var config = CLIPTextConfig()
        // The same sizes under CLIP's names (SD 1.x) or OpenCLIP's (SD 2.x).
        let p: String, keys: (token: String, position: String, fc1: String)
        switch family {
        case .sd1:
            p = "cond_stage_model.transformer.text_model."
            keys = ("embeddings.token_embedding.weight", "embeddings.position_embedding.weight", "encoder.layers.0.mlp.fc1.weight")
            config.numHiddenLayers = count { p + "encoder.layers.\($0).layer_norm1.weight" }
            config.hiddenAct = "quick_gelu"
            config.projectionDim = 768
        case .sd2:
            p = "cond_stage_model.model."
            keys = ("token_embedding.weight", "positional_embedding", "transformer.resblocks.0.mlp.c_fc.weight")
            // SD 2 conditions on the penultimate block (then ln_final), so the last one is dropped.
            config.numHiddenLayers = count { p + "transformer.resblocks.\($0).ln_1.weight" } - 1
            config.hiddenAct = "gelu"
            config.projectionDim = file.contains(p + "text_projection") ? try file.shape(p + "text_projection").last ?? 512 : 512
        }
        let tokens = try shape(p + keys.token, rank: 2)
        (config.vocabSize, config.hiddenSize) = (tokens[0], tokens[1])
        config.maxPositionEmbeddings = try shape(p + keys.position, rank: 2)[0]
        config.intermediateSize = try shape(p + keys.fc1, rank: 2)[0]
        guard config.numHiddenLayers > 0 else {
            throw SingleFileError.cannotInfer(path: url.path, key: family == .sd1 ? "cond_stage_model.transformer.text_model.encoder.layers.0"
                                              : "cond_stage_model.model.transformer.resblocks.1", reason: "too few text encoder layers")
        }
        config.numAttentionHeads = max(config.hiddenSize / 64, 1)   // CLIP ViT-L and OpenCLIP ViT-H: 64-wide heads
        config.bosTokenId = 0   // the SD 1.x / 2.x text_encoder configs' legacy ids (pooling by argmax)
        config.eosTokenId = 2
        config.padTokenId = 1
        return config
    }
}
