// UNetConfig validation and the per-block layout it resolves to (channels, heads, layers per block).
import Foundation

extension UNetConfig {
    /// One down or up block as diffusers' UNet2DConditionModel.__init__ builds it.
    public struct BlockLayout: Equatable {
        public var hasCrossAttention: Bool
        public var inChannels: Int
        public var outChannels: Int
        /// Up blocks: the channels of the previous (deeper) up block's output.
        public var previousOutChannels: Int
        public var resnetCount: Int
        public var transformerLayers: Int
        public var heads: Int
        public var crossAttentionDim: Int
        /// Down blocks: whether a Downsample2D follows; up blocks: whether an Upsample2D does.
        public var resamples: Bool
    }

    /// The whole network's layout.
    public struct Layout: Equatable {
        public var timeEmbedDim: Int
        public var down: [BlockLayout]
        public var up: [BlockLayout]
        /// nil when `mid_block_type` is null.
        public var mid: BlockLayout?
        public var groups: Int
    }

    /// Checks every supported value and resolves the layout; unsupported values are errors
    /// that name the field and value.
    public func layout() throws -> Layout {
        func unsupported(_ key: CodingKeys, _ value: Any?, _ supported: String) -> UNetConfigError {
            .unsupported(field: key.rawValue, value: value.map { "\($0)" } ?? "null", supported: supported)
        }
        func requireNull<T>(_ key: CodingKeys, _ value: T?) throws {
            if let value { throw unsupported(key, value, "null") }
        }
        let blocks = downBlockTypes.count
        guard blocks > 0 else { throw UNetConfigError.invalidValue(field: "down_block_types", reason: "is empty") }
        guard blockOutChannels.count == blocks else {
            throw UNetConfigError.invalidValue(field: "block_out_channels", reason: "has \(blockOutChannels.count) entries for \(blocks) down blocks")
        }
        guard upBlockTypes.count == blocks else {
            throw UNetConfigError.invalidValue(field: "up_block_types", reason: "has \(upBlockTypes.count) entries for \(blocks) down blocks")
        }
        for type in downBlockTypes where type != "DownBlock2D" && type != "CrossAttnDownBlock2D" {
            throw unsupported(.downBlockTypes, type, "DownBlock2D, CrossAttnDownBlock2D")
        }
        for type in upBlockTypes where type != "UpBlock2D" && type != "CrossAttnUpBlock2D" {
            throw unsupported(.upBlockTypes, type, "UpBlock2D, CrossAttnUpBlock2D")
        }
        if let midBlockType, midBlockType != "UNetMidBlock2DCrossAttn" {
            throw unsupported(.midBlockType, midBlockType, "UNetMidBlock2DCrossAttn, null")
        }
        guard onlyCrossAttention.isAllFalse else { throw unsupported(.onlyCrossAttention, onlyCrossAttention, "false") }
        if let midBlockOnlyCrossAttention, midBlockOnlyCrossAttention { throw unsupported(.midBlockOnlyCrossAttention, true, "false, null") }
        if dualCrossAttention { throw unsupported(.dualCrossAttention, true, "false") }
        guard actFn == "silu" || actFn == "swish" else { throw unsupported(.actFn, actFn, "silu, swish") }
        guard let groups = normNumGroups else { throw unsupported(.normNumGroups, nil, "a positive group count") }
        guard groups > 0 else { throw UNetConfigError.invalidValue(field: "norm_num_groups", reason: "\(groups) is not positive") }
        guard normEps > 0 else { throw UNetConfigError.invalidValue(field: "norm_eps", reason: "\(normEps) is not positive") }
        try requireNull(.reverseTransformerLayersPerBlock, reverseTransformerLayersPerBlock)
        try requireNull(.encoderHidDim, encoderHidDim)
        try requireNull(.encoderHidDimType, encoderHidDimType)
        try requireNull(.classEmbedType, classEmbedType)
        try requireNull(.numClassEmbeds, numClassEmbeds)
        try requireNull(.additionEmbedType, additionEmbedType)
        try requireNull(.additionTimeEmbedDim, additionTimeEmbedDim)
        try requireNull(.projectionClassEmbeddingsInputDim, projectionClassEmbeddingsInputDim)
        try requireNull(.timeCondProjDim, timeCondProjDim)
        try requireNull(.timeEmbeddingActFn, timeEmbeddingActFn)
        try requireNull(.timestepPostAct, timestepPostAct)
        try requireNull(.crossAttentionNorm, crossAttentionNorm)
        if classEmbeddingsConcat { throw unsupported(.classEmbeddingsConcat, true, "false") }
        if resnetSkipTimeAct { throw unsupported(.resnetSkipTimeAct, true, "false") }
        if resnetOutScaleFactor != 1 { throw unsupported(.resnetOutScaleFactor, resnetOutScaleFactor, "1.0") }
        guard resnetTimeScaleShift == "default" else { throw unsupported(.resnetTimeScaleShift, resnetTimeScaleShift, "default") }
        guard timeEmbeddingType == "positional" else { throw unsupported(.timeEmbeddingType, timeEmbeddingType, "positional") }
        guard attentionType == "default" else { throw unsupported(.attentionType, attentionType, "default") }
        // Dropout would need a training switch in every block; inference ignores it, training must not.
        guard dropout == 0 else { throw unsupported(.dropout, dropout, "0.0") }
        for (key, kernel) in [(CodingKeys.convInKernel, convInKernel), (.convOutKernel, convOutKernel)] where kernel <= 0 || kernel % 2 == 0 {
            throw unsupported(key, kernel, "a positive odd kernel size")
        }
        // Other paddings change the downsampled size, which the skip connections cannot take.
        guard downsamplePadding == 0 || downsamplePadding == 1 else { throw unsupported(.downsamplePadding, downsamplePadding, "0, 1") }
        guard midBlockScaleFactor > 0 else { throw UNetConfigError.invalidValue(field: "mid_block_scale_factor", reason: "\(midBlockScaleFactor) is not positive") }
        guard inChannels > 0, outChannels > 0 else {
            throw UNetConfigError.invalidValue(field: inChannels > 0 ? "out_channels" : "in_channels", reason: "must be positive")
        }
        for channels in blockOutChannels where channels <= 0 || channels % groups != 0 {
            throw UNetConfigError.invalidValue(field: "block_out_channels",
                                               reason: "\(channels) is not a positive multiple of norm_num_groups \(groups)")
        }
        let half = blockOutChannels[0] / 2
        guard half > 0, Double(half) != freqShift else {
            throw UNetConfigError.invalidValue(field: "freq_shift", reason: "\(freqShift) leaves no frequencies for \(blockOutChannels[0]) channels")
        }
        if let timeEmbeddingDim, timeEmbeddingDim <= 0 {
            throw UNetConfigError.invalidValue(field: "time_embedding_dim", reason: "\(timeEmbeddingDim) is not positive")
        }

        let layers = try perBlock(layersPerBlock, .layersPerBlock, blocks, minimum: 1)
        let crossDims = try perBlock(crossAttentionDim, .crossAttentionDim, blocks, minimum: 1)
        let transformerLayers = try perBlock(transformerLayersPerBlock, .transformerLayersPerBlock, blocks, minimum: 1)
        // diffusers: `num_attention_heads = num_attention_heads or attention_head_dim`.
        let headsKey: CodingKeys = numAttentionHeads == nil ? .attentionHeadDim : .numAttentionHeads
        let heads = try perBlock(numAttentionHeads ?? attentionHeadDim, headsKey, blocks, minimum: 1)
        let timeEmbedDim = timeEmbeddingDim ?? blockOutChannels[0] * 4

        var down: [BlockLayout] = []
        var output = blockOutChannels[0]
        for i in 0..<blocks {
            let input = output
            output = blockOutChannels[i]
            down.append(BlockLayout(hasCrossAttention: downBlockTypes[i] == "CrossAttnDownBlock2D", inChannels: input,
                                    outChannels: output, previousOutChannels: input, resnetCount: layers[i],
                                    transformerLayers: transformerLayers[i], heads: heads[i],
                                    crossAttentionDim: crossDims[i], resamples: i < blocks - 1))
        }
        var mid: BlockLayout?
        if midBlockType != nil {
            let channels = blockOutChannels[blocks - 1]
            mid = BlockLayout(hasCrossAttention: true, inChannels: channels, outChannels: channels, previousOutChannels: channels,
                              resnetCount: 2, transformerLayers: transformerLayers[blocks - 1], heads: heads[blocks - 1],
                              crossAttentionDim: crossDims[blocks - 1], resamples: false)
        }
        var up: [BlockLayout] = []
        let reversedChannels = Array(blockOutChannels.reversed())
        output = reversedChannels[0]
        for i in 0..<blocks {
            let previous = output
            output = reversedChannels[i]
            let input = reversedChannels[min(i + 1, blocks - 1)]
            let j = blocks - 1 - i
            up.append(BlockLayout(hasCrossAttention: upBlockTypes[i] == "CrossAttnUpBlock2D", inChannels: input,
                                  outChannels: output, previousOutChannels: previous, resnetCount: layers[j] + 1,
                                  transformerLayers: transformerLayers[j], heads: heads[j],
                                  crossAttentionDim: crossDims[j], resamples: i < blocks - 1))
        }
        for block in down + up + (mid.map { [$0] } ?? []) where block.hasCrossAttention && block.outChannels % block.heads != 0 {
            throw UNetConfigError.invalidValue(field: headsKey.rawValue,
                                               reason: "\(block.heads) heads do not divide a block's \(block.outChannels) channels")
        }
        return Layout(timeEmbedDim: timeEmbedDim, down: down, up: up, mid: mid, groups: groups)
    }

    /// An int-or-list field as one value per block.
    private func perBlock(_ value: IntOrList, _ key: CodingKeys, _ blocks: Int, minimum: Int) throws -> [Int] {
        let values: [Int]
        switch value {
        case .single(let v): values = Array(repeating: v, count: blocks)
        case .list(let list):
            guard list.count == blocks else {
                throw UNetConfigError.invalidValue(field: key.rawValue, reason: "has \(list.count) entries for \(blocks) blocks")
            }
            values = list
        }
        if let bad = values.first(where: { $0 < minimum }) {
            throw UNetConfigError.invalidValue(field: key.rawValue, reason: "\(bad) is less than \(minimum)")
        }
        return values
    }

    /// The number of 2× downsamplings (H and W must be divisible by 2 to this power).
    public var downsampleCount: Int { max(0, downBlockTypes.count - 1) }
}
