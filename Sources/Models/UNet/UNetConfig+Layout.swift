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

    /// Rejects the first value this implementation does not support (the same checks as `layout()`),
    /// and refuses a model over the parameter limit before anything is allocated.
    public func validate() throws { try checkParameterBytes(parameterTally(try layout())) }

    /// Fields of diffusers features this U-Net does not implement: each must be null.
    private static let nullOnly: [PartialKeyPath<UNetConfig>] = [
        \.reverseTransformerLayersPerBlock, \.encoderHidDim, \.encoderHidDimType, \.classEmbedType, \.numClassEmbeds,
        \.additionEmbedType, \.additionTimeEmbedDim, \.projectionClassEmbeddingsInputDim, \.timeCondProjDim,
        \.timeEmbeddingActFn, \.timestepPostAct, \.crossAttentionNorm,
    ]

    /// Checks every supported value and resolves the layout; an unsupported value is a
    /// `ConfigError` naming its key.
    public func layout() throws -> Layout {
        let blocks = downBlockTypes.count
        guard blocks > 0 else { throw Self.invalid(\.downBlockTypes, "is empty") }
        // Each block but the last halves the size: more than 12 would shift 2^(blocks-1) past any image.
        guard blocks <= 12 else { throw Self.invalid(\.downBlockTypes, "has \(blocks) blocks; at most 12") }
        guard blockOutChannels.count == blocks else {
            throw Self.invalid(\.blockOutChannels, "has \(blockOutChannels.count) entries for \(blocks) down blocks")
        }
        guard upBlockTypes.count == blocks else {
            throw Self.invalid(\.upBlockTypes, "has \(upBlockTypes.count) entries for \(blocks) down blocks")
        }
        for type in downBlockTypes where type != "DownBlock2D" && type != "CrossAttnDownBlock2D" {
            throw Self.unsupported(\.downBlockTypes, type, supported: "DownBlock2D, CrossAttnDownBlock2D")
        }
        for type in upBlockTypes where type != "UpBlock2D" && type != "CrossAttnUpBlock2D" {
            throw Self.unsupported(\.upBlockTypes, type, supported: "UpBlock2D, CrossAttnUpBlock2D")
        }
        if let midBlockType, midBlockType != "UNetMidBlock2DCrossAttn" {
            throw Self.unsupported(\.midBlockType, midBlockType, supported: "UNetMidBlock2DCrossAttn, null")
        }
        guard onlyCrossAttention.isAllFalse else {
            throw Self.unsupported(\.onlyCrossAttention, onlyCrossAttention.jsonText, supported: "false")
        }
        if midBlockOnlyCrossAttention == true { throw Self.unsupported(\.midBlockOnlyCrossAttention, true, supported: "false, null") }
        for path in [\UNetConfig.dualCrossAttention, \.classEmbeddingsConcat, \.resnetSkipTimeAct] where self[keyPath: path] {
            throw Self.unsupported(path, true, supported: "false")
        }
        for path in Self.nullOnly {
            if let value = self[keyPath: path] as? OptionalValue, let shown = value.shownIfPresent {
                throw Self.unsupported(path, shown, supported: "null")
            }
        }
        guard actFn == "silu" || actFn == "swish" else { throw Self.unsupported(\.actFn, actFn, supported: "silu, swish") }
        guard let groups = normNumGroups else { throw Self.unsupported(\.normNumGroups, nil, supported: "a positive group count") }
        guard groups > 0 else { throw Self.invalid(\.normNumGroups, "\(groups) is not positive") }
        guard normEps > 0 else { throw Self.invalid(\.normEps, "\(normEps) is not positive") }
        if resnetOutScaleFactor != 1 { throw Self.unsupported(\.resnetOutScaleFactor, resnetOutScaleFactor, supported: "1.0") }
        guard resnetTimeScaleShift == "default" else { throw Self.unsupported(\.resnetTimeScaleShift, resnetTimeScaleShift, supported: "default") }
        guard timeEmbeddingType == "positional" else { throw Self.unsupported(\.timeEmbeddingType, timeEmbeddingType, supported: "positional") }
        guard attentionType == "default" else { throw Self.unsupported(\.attentionType, attentionType, supported: "default") }
        // Dropout would need a training switch in every block; inference ignores it, training must not.
        guard dropout == 0 else { throw Self.unsupported(\.dropout, dropout, supported: "0.0") }
        for path in [\UNetConfig.convInKernel, \.convOutKernel] where self[keyPath: path] <= 0 || self[keyPath: path] % 2 == 0 {
            throw Self.unsupported(path, self[keyPath: path], supported: "a positive odd kernel size")
        }
        // Other paddings change the downsampled size, which the skip connections cannot take.
        guard downsamplePadding == 0 || downsamplePadding == 1 else {
            throw Self.unsupported(\.downsamplePadding, downsamplePadding, supported: "0, 1")
        }
        guard midBlockScaleFactor > 0 else { throw Self.invalid(\.midBlockScaleFactor, "\(midBlockScaleFactor) is not positive") }
        for path in [\UNetConfig.inChannels, \.outChannels] where self[keyPath: path] <= 0 {
            throw Self.invalid(path, "must be positive")
        }
        for channels in blockOutChannels where channels <= 0 || channels % groups != 0 {
            throw Self.invalid(\.blockOutChannels, "\(channels) is not a positive multiple of norm_num_groups \(groups)")
        }
        let half = blockOutChannels[0] / 2
        guard half > 0, Double(half) != freqShift else {
            throw Self.invalid(\.freqShift, "\(freqShift) leaves no frequencies for \(blockOutChannels[0]) channels")
        }
        if let timeEmbeddingDim, timeEmbeddingDim <= 0 {
            throw Self.invalid(\.timeEmbeddingDim, "\(timeEmbeddingDim) is not positive")
        }

        let layers = try perBlock(layersPerBlock, \.layersPerBlock, blocks)
        let crossDims = try perBlock(crossAttentionDim, \.crossAttentionDim, blocks)
        let transformerLayers = try perBlock(transformerLayersPerBlock, \.transformerLayersPerBlock, blocks)
        // diffusers: `num_attention_heads = num_attention_heads or attention_head_dim`.
        let headsKey: PartialKeyPath<UNetConfig> = numAttentionHeads == nil ? \.attentionHeadDim : \.numAttentionHeads
        let heads = try perBlock(numAttentionHeads ?? attentionHeadDim, headsKey, blocks)
        let timeEmbedDim = timeEmbeddingDim ?? ParameterCount.times(4, blockOutChannels[0])  // saturates: sizes are checked next

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
            throw Self.invalid(headsKey, "\(block.heads) heads do not divide a block's \(block.outChannels) channels")
        }
        return Layout(timeEmbedDim: timeEmbedDim, down: down, up: up, mid: mid, groups: groups)
    }

    /// An int-or-list field as one positive value per block.
    private func perBlock(_ value: IntOrList, _ key: PartialKeyPath<UNetConfig>, _ blocks: Int) throws -> [Int] {
        let values: [Int]
        switch value {
        case .single(let v): values = Array(repeating: v, count: blocks)
        case .list(let list):
            guard list.count == blocks else {
                throw Self.invalid(key, "has \(list.count) entries for \(blocks) blocks")
            }
            values = list
        }
        if let bad = values.first(where: { $0 < 1 }) { throw Self.invalid(key, "\(bad) is less than 1") }
        return values
    }

    /// The number of 2× downsamplings (H and W must be divisible by 2 to this power).
    public var downsampleCount: Int { max(0, downBlockTypes.count - 1) }
}

/// An optional seen through `Any`: its value's text, or nil when it is None.
private protocol OptionalValue { var shownIfPresent: String? { get } }

extension Optional: OptionalValue {
    fileprivate var shownIfPresent: String? { map { "\($0)" } }
}
