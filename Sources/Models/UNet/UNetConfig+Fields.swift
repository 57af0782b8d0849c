// UNetConfig's config.json schema: each diffusers key bound once to its property.
import TensorCore

extension UNetConfig: ComponentConfig {
    /// Absent keys keep diffusers' defaults; `null` keeps the default of a non-optional field and
    /// means None for an optional one. Every field is written, optionals as `null` when nil.
    public static let fields: [ConfigField<UNetConfig>] = [
        .optional("sample_size", \.sampleSize),
        .value("in_channels", \.inChannels),
        .value("out_channels", \.outChannels),
        .value("center_input_sample", \.centerInputSample),
        .value("flip_sin_to_cos", \.flipSinToCos),
        .value("freq_shift", \.freqShift),
        .value("down_block_types", \.downBlockTypes),
        .optional("mid_block_type", \.midBlockType),
        .value("up_block_types", \.upBlockTypes),
        .value("only_cross_attention", \.onlyCrossAttention),
        .value("block_out_channels", \.blockOutChannels),
        .value("layers_per_block", \.layersPerBlock),
        .value("downsample_padding", \.downsamplePadding),
        .value("mid_block_scale_factor", \.midBlockScaleFactor),
        .value("dropout", \.dropout),
        .value("act_fn", \.actFn),
        .optional("norm_num_groups", \.normNumGroups),
        .value("norm_eps", \.normEps),
        .value("cross_attention_dim", \.crossAttentionDim),
        .value("transformer_layers_per_block", \.transformerLayersPerBlock),
        .optional("reverse_transformer_layers_per_block", \.reverseTransformerLayersPerBlock),
        .optional("encoder_hid_dim", \.encoderHidDim),
        .optional("encoder_hid_dim_type", \.encoderHidDimType),
        .value("attention_head_dim", \.attentionHeadDim),
        .optional("num_attention_heads", \.numAttentionHeads),
        .value("dual_cross_attention", \.dualCrossAttention),
        .value("use_linear_projection", \.useLinearProjection),
        .optional("class_embed_type", \.classEmbedType),
        .optional("addition_embed_type", \.additionEmbedType),
        .optional("addition_time_embed_dim", \.additionTimeEmbedDim),
        .optional("num_class_embeds", \.numClassEmbeds),
        .value("upcast_attention", \.upcastAttention),
        .value("resnet_time_scale_shift", \.resnetTimeScaleShift),
        .value("resnet_skip_time_act", \.resnetSkipTimeAct),
        .value("resnet_out_scale_factor", \.resnetOutScaleFactor),
        .value("time_embedding_type", \.timeEmbeddingType),
        .optional("time_embedding_dim", \.timeEmbeddingDim),
        .optional("time_embedding_act_fn", \.timeEmbeddingActFn),
        .optional("timestep_post_act", \.timestepPostAct),
        .optional("time_cond_proj_dim", \.timeCondProjDim),
        .value("conv_in_kernel", \.convInKernel),
        .value("conv_out_kernel", \.convOutKernel),
        .optional("projection_class_embeddings_input_dim", \.projectionClassEmbeddingsInputDim),
        .value("attention_type", \.attentionType),
        .value("class_embeddings_concat", \.classEmbeddingsConcat),
        .optional("mid_block_only_cross_attention", \.midBlockOnlyCrossAttention),
        .optional("cross_attention_norm", \.crossAttentionNorm),
        .value("addition_embed_type_num_heads", \.additionEmbedTypeNumHeads),
    ]

    public init(from decoder: Decoder) throws { self.init(); try decodeFields(from: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeFields(to: encoder) }
}
