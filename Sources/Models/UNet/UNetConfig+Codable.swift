// UNetConfig's config.json encoding: diffusers' key names, defaults for absent keys, nulls written out.
import Foundation

extension UNetConfig: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case sampleSize = "sample_size"
        case inChannels = "in_channels"
        case outChannels = "out_channels"
        case centerInputSample = "center_input_sample"
        case flipSinToCos = "flip_sin_to_cos"
        case freqShift = "freq_shift"
        case downBlockTypes = "down_block_types"
        case midBlockType = "mid_block_type"
        case upBlockTypes = "up_block_types"
        case onlyCrossAttention = "only_cross_attention"
        case blockOutChannels = "block_out_channels"
        case layersPerBlock = "layers_per_block"
        case downsamplePadding = "downsample_padding"
        case midBlockScaleFactor = "mid_block_scale_factor"
        case dropout
        case actFn = "act_fn"
        case normNumGroups = "norm_num_groups"
        case normEps = "norm_eps"
        case crossAttentionDim = "cross_attention_dim"
        case transformerLayersPerBlock = "transformer_layers_per_block"
        case reverseTransformerLayersPerBlock = "reverse_transformer_layers_per_block"
        case encoderHidDim = "encoder_hid_dim"
        case encoderHidDimType = "encoder_hid_dim_type"
        case attentionHeadDim = "attention_head_dim"
        case numAttentionHeads = "num_attention_heads"
        case dualCrossAttention = "dual_cross_attention"
        case useLinearProjection = "use_linear_projection"
        case classEmbedType = "class_embed_type"
        case additionEmbedType = "addition_embed_type"
        case additionTimeEmbedDim = "addition_time_embed_dim"
        case numClassEmbeds = "num_class_embeds"
        case upcastAttention = "upcast_attention"
        case resnetTimeScaleShift = "resnet_time_scale_shift"
        case resnetSkipTimeAct = "resnet_skip_time_act"
        case resnetOutScaleFactor = "resnet_out_scale_factor"
        case timeEmbeddingType = "time_embedding_type"
        case timeEmbeddingDim = "time_embedding_dim"
        case timeEmbeddingActFn = "time_embedding_act_fn"
        case timestepPostAct = "timestep_post_act"
        case timeCondProjDim = "time_cond_proj_dim"
        case convInKernel = "conv_in_kernel"
        case convOutKernel = "conv_out_kernel"
        case projectionClassEmbeddingsInputDim = "projection_class_embeddings_input_dim"
        case attentionType = "attention_type"
        case classEmbeddingsConcat = "class_embeddings_concat"
        case midBlockOnlyCrossAttention = "mid_block_only_cross_attention"
        case crossAttentionNorm = "cross_attention_norm"
        case additionEmbedTypeNumHeads = "addition_embed_type_num_heads"
    }

    /// Absent keys keep diffusers' defaults; a present key of the wrong JSON type is an error
    /// naming the key. Keys written as null mean "None" (for non-optional fields: the default).
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ current: T) throws -> T {
            do { return try c.decodeIfPresent(T.self, forKey: key) ?? current } catch {
                throw UNetConfigError.invalidValue(field: key.rawValue, reason: "expected \(T.self): \(error)")
            }
        }
        func optional<T: Decodable>(_ key: CodingKeys, _ current: T?) throws -> T? {
            guard c.contains(key) else { return current }
            do { return try c.decodeIfPresent(T.self, forKey: key) } catch {
                throw UNetConfigError.invalidValue(field: key.rawValue, reason: "expected \(T.self) or null: \(error)")
            }
        }
        sampleSize = try optional(.sampleSize, sampleSize)
        inChannels = try value(.inChannels, inChannels)
        outChannels = try value(.outChannels, outChannels)
        centerInputSample = try value(.centerInputSample, centerInputSample)
        flipSinToCos = try value(.flipSinToCos, flipSinToCos)
        freqShift = try value(.freqShift, freqShift)
        downBlockTypes = try value(.downBlockTypes, downBlockTypes)
        midBlockType = try optional(.midBlockType, midBlockType)
        upBlockTypes = try value(.upBlockTypes, upBlockTypes)
        onlyCrossAttention = try value(.onlyCrossAttention, onlyCrossAttention)
        blockOutChannels = try value(.blockOutChannels, blockOutChannels)
        layersPerBlock = try value(.layersPerBlock, layersPerBlock)
        downsamplePadding = try value(.downsamplePadding, downsamplePadding)
        midBlockScaleFactor = try value(.midBlockScaleFactor, midBlockScaleFactor)
        dropout = try value(.dropout, dropout)
        actFn = try value(.actFn, actFn)
        normNumGroups = try optional(.normNumGroups, normNumGroups)
        normEps = try value(.normEps, normEps)
        crossAttentionDim = try value(.crossAttentionDim, crossAttentionDim)
        transformerLayersPerBlock = try value(.transformerLayersPerBlock, transformerLayersPerBlock)
        reverseTransformerLayersPerBlock = try optional(.reverseTransformerLayersPerBlock, reverseTransformerLayersPerBlock)
        encoderHidDim = try optional(.encoderHidDim, encoderHidDim)
        encoderHidDimType = try optional(.encoderHidDimType, encoderHidDimType)
        attentionHeadDim = try value(.attentionHeadDim, attentionHeadDim)
        numAttentionHeads = try optional(.numAttentionHeads, numAttentionHeads)
        dualCrossAttention = try value(.dualCrossAttention, dualCrossAttention)
        useLinearProjection = try value(.useLinearProjection, useLinearProjection)
        classEmbedType = try optional(.classEmbedType, classEmbedType)
        additionEmbedType = try optional(.additionEmbedType, additionEmbedType)
        additionTimeEmbedDim = try optional(.additionTimeEmbedDim, additionTimeEmbedDim)
        numClassEmbeds = try optional(.numClassEmbeds, numClassEmbeds)
        upcastAttention = try value(.upcastAttention, upcastAttention)
        resnetTimeScaleShift = try value(.resnetTimeScaleShift, resnetTimeScaleShift)
        resnetSkipTimeAct = try value(.resnetSkipTimeAct, resnetSkipTimeAct)
        resnetOutScaleFactor = try value(.resnetOutScaleFactor, resnetOutScaleFactor)
        timeEmbeddingType = try value(.timeEmbeddingType, timeEmbeddingType)
        timeEmbeddingDim = try optional(.timeEmbeddingDim, timeEmbeddingDim)
        timeEmbeddingActFn = try optional(.timeEmbeddingActFn, timeEmbeddingActFn)
        timestepPostAct = try optional(.timestepPostAct, timestepPostAct)
        timeCondProjDim = try optional(.timeCondProjDim, timeCondProjDim)
        convInKernel = try value(.convInKernel, convInKernel)
        convOutKernel = try value(.convOutKernel, convOutKernel)
        projectionClassEmbeddingsInputDim = try optional(.projectionClassEmbeddingsInputDim, projectionClassEmbeddingsInputDim)
        attentionType = try value(.attentionType, attentionType)
        classEmbeddingsConcat = try value(.classEmbeddingsConcat, classEmbeddingsConcat)
        midBlockOnlyCrossAttention = try optional(.midBlockOnlyCrossAttention, midBlockOnlyCrossAttention)
        crossAttentionNorm = try optional(.crossAttentionNorm, crossAttentionNorm)
        additionEmbedTypeNumHeads = try value(.additionEmbedTypeNumHeads, additionEmbedTypeNumHeads)
    }

    /// Every field, with null for absent optionals (as diffusers writes config.json).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sampleSize, forKey: .sampleSize)
        try c.encode(inChannels, forKey: .inChannels)
        try c.encode(outChannels, forKey: .outChannels)
        try c.encode(centerInputSample, forKey: .centerInputSample)
        try c.encode(flipSinToCos, forKey: .flipSinToCos)
        try c.encode(freqShift, forKey: .freqShift)
        try c.encode(downBlockTypes, forKey: .downBlockTypes)
        try c.encode(midBlockType, forKey: .midBlockType)
        try c.encode(upBlockTypes, forKey: .upBlockTypes)
        try c.encode(onlyCrossAttention, forKey: .onlyCrossAttention)
        try c.encode(blockOutChannels, forKey: .blockOutChannels)
        try c.encode(layersPerBlock, forKey: .layersPerBlock)
        try c.encode(downsamplePadding, forKey: .downsamplePadding)
        try c.encode(midBlockScaleFactor, forKey: .midBlockScaleFactor)
        try c.encode(dropout, forKey: .dropout)
        try c.encode(actFn, forKey: .actFn)
        try c.encode(normNumGroups, forKey: .normNumGroups)
        try c.encode(normEps, forKey: .normEps)
        try c.encode(crossAttentionDim, forKey: .crossAttentionDim)
        try c.encode(transformerLayersPerBlock, forKey: .transformerLayersPerBlock)
        try c.encode(reverseTransformerLayersPerBlock, forKey: .reverseTransformerLayersPerBlock)
        try c.encode(encoderHidDim, forKey: .encoderHidDim)
        try c.encode(encoderHidDimType, forKey: .encoderHidDimType)
        try c.encode(attentionHeadDim, forKey: .attentionHeadDim)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(dualCrossAttention, forKey: .dualCrossAttention)
        try c.encode(useLinearProjection, forKey: .useLinearProjection)
        try c.encode(classEmbedType, forKey: .classEmbedType)
        try c.encode(additionEmbedType, forKey: .additionEmbedType)
        try c.encode(additionTimeEmbedDim, forKey: .additionTimeEmbedDim)
        try c.encode(numClassEmbeds, forKey: .numClassEmbeds)
        try c.encode(upcastAttention, forKey: .upcastAttention)
        try c.encode(resnetTimeScaleShift, forKey: .resnetTimeScaleShift)
        try c.encode(resnetSkipTimeAct, forKey: .resnetSkipTimeAct)
        try c.encode(resnetOutScaleFactor, forKey: .resnetOutScaleFactor)
        try c.encode(timeEmbeddingType, forKey: .timeEmbeddingType)
        try c.encode(timeEmbeddingDim, forKey: .timeEmbeddingDim)
        try c.encode(timeEmbeddingActFn, forKey: .timeEmbeddingActFn)
        try c.encode(timestepPostAct, forKey: .timestepPostAct)
        try c.encode(timeCondProjDim, forKey: .timeCondProjDim)
        try c.encode(convInKernel, forKey: .convInKernel)
        try c.encode(convOutKernel, forKey: .convOutKernel)
        try c.encode(projectionClassEmbeddingsInputDim, forKey: .projectionClassEmbeddingsInputDim)
        try c.encode(attentionType, forKey: .attentionType)
        try c.encode(classEmbeddingsConcat, forKey: .classEmbeddingsConcat)
        try c.encode(midBlockOnlyCrossAttention, forKey: .midBlockOnlyCrossAttention)
        try c.encode(crossAttentionNorm, forKey: .crossAttentionNorm)
        try c.encode(additionEmbedTypeNumHeads, forKey: .additionEmbedTypeNumHeads)
    }
}
