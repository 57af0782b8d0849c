// Parameter counts computed from configs alone, so a config that would build a model too large
// for memory is refused before any weight is allocated (ResourceLimits.maxModelBytes).
import FileIO
import TensorCore

/// A parameter count that saturates at Int.max instead of trapping on a hostile config.
struct ParameterCount: ExpressibleByIntegerLiteral {
    var value: Int
    init(_ value: Int) { self.value = max(0, value) }
    init(integerLiteral value: Int) { self.init(value) }

    static func + (a: Self, b: Self) -> Self {
        let (sum, overflow) = a.value.addingReportingOverflow(b.value)
        return Self(overflow ? .max : sum)
    }

    static func * (a: Self, b: Self) -> Self {
        let (product, overflow) = a.value.multipliedReportingOverflow(by: b.value)
        return Self(overflow ? .max : product)
    }

    static func conv(_ input: Int, _ output: Int, kernel: Int) -> Self {
        Self(input) * Self(output) * Self(kernel) * Self(kernel) + Self(output)
    }

    static func linear(_ input: Int, _ output: Int, bias: Bool = true) -> Self {
        Self(input) * Self(output) + (bias ? Self(output) : 0)
    }

    static func norm(_ channels: Int) -> Self { Self(2) * Self(channels) }

    /// `factor × value` as a channel count, saturating like the counts.
    static func times(_ factor: Int, _ value: Int) -> Int { (Self(factor) * Self(value)).value }

    /// ResnetBlock2D: two 3×3 convs, two norms, an optional time projection and 1×1 shortcut.
    static func resnet(_ input: Int, _ output: Int, timeEmbedding: Int? = nil) -> Self {
        norm(input) + conv(input, output, kernel: 3) + norm(output) + conv(output, output, kernel: 3)
            + (timeEmbedding.map { linear($0, output) } ?? 0) + (input == output ? 0 : conv(input, output, kernel: 1))
    }
}

extension ComponentConfig {
    /// Throws a ConfigError (no key: the whole config) when the model would exceed the limit.
    func checkParameterBytes(_ count: ParameterCount) throws {
        do {
            try ResourceLimits.checkModelSize(parameters: count.value, location: Self.inCode)
        } catch let error as InputError {
            throw ConfigError(file: Self.inCode, reason: error.reason)
        }
    }
}

extension AutoencoderKLConfig {
    /// Float32 parameters of the AutoencoderKL this config builds (encoder, decoder, quant convs).
    public var parameterCount: Int { parameterTally.value }

    var parameterTally: ParameterCount {
        let channels = blockOutChannels, last = channels.last ?? 0, layers = max(layersPerBlock, 0)
        func mid(_ c: Int) -> ParameterCount {
            ParameterCount.resnet(c, c) + ParameterCount.resnet(c, c)
                + (midBlockAddAttention ? ParameterCount.norm(c) + ParameterCount(4) * ParameterCount.linear(c, c) : 0)
        }
        var total = ParameterCount.conv(inChannels, channels.first ?? 0, kernel: 3)
        var input = channels.first ?? 0
        for (i, c) in channels.enumerated() {
            // Counted in closed form: a hostile layers_per_block must not make a long loop.
            total = total + ParameterCount.resnet(input, c) + ParameterCount(layers - 1) * ParameterCount.resnet(c, c)
            if i < channels.count - 1 { total = total + ParameterCount.conv(c, c, kernel: 3) }
            input = c
        }
        total = total + mid(last) + ParameterCount.norm(last) + ParameterCount.conv(last, ParameterCount.times(2, latentChannels), kernel: 3)
        total = total + ParameterCount.conv(latentChannels, last, kernel: 3) + mid(last)
        input = last
        for (i, c) in channels.reversed().enumerated() {
            total = total + ParameterCount.resnet(input, c) + ParameterCount(layers) * ParameterCount.resnet(c, c)
            if i < channels.count - 1 { total = total + ParameterCount.conv(c, c, kernel: 3) }
            input = c
        }
        total = total + ParameterCount.norm(channels.first ?? 0) + ParameterCount.conv(channels.first ?? 0, outChannels, kernel: 3)
        if useQuantConv { total = total + ParameterCount.conv(ParameterCount.times(2, latentChannels), ParameterCount.times(2, latentChannels), kernel: 1) }
        if usePostQuantConv { total = total + ParameterCount.conv(latentChannels, latentChannels, kernel: 1) }
        return total
    }
}

extension UNetConfig {
    /// Float32 parameters of the UNet2DConditionModel this config builds; `layout` from `layout()`.
    func parameterTally(_ layout: Layout) -> ParameterCount {
        let first = blockOutChannels.first ?? 0, time = layout.timeEmbedDim
        func transformer(_ block: BlockLayout) -> ParameterCount {
            let d = block.outChannels, x = block.crossAttentionDim
            let attention = ParameterCount.linear(d, d, bias: false) * 3 + ParameterCount.linear(d, d)
            let crossAttention = ParameterCount.linear(d, d, bias: false) + ParameterCount.linear(x, d, bias: false) * 2
                + ParameterCount.linear(d, d)
            let feedForward = ParameterCount.linear(d, ParameterCount.times(8, d)) + ParameterCount.linear(ParameterCount.times(4, d), d)
            let layer = ParameterCount.norm(d) * 3 + attention + crossAttention + feedForward
            let projection = useLinearProjection ? ParameterCount.linear(d, d) : ParameterCount.conv(d, d, kernel: 1)
            return ParameterCount.norm(d) + projection * 2 + layer * ParameterCount(block.transformerLayers)
        }
        var total = ParameterCount.conv(inChannels, first, kernel: convInKernel)
            + ParameterCount.linear(first, time) + ParameterCount.linear(time, time)
        for block in layout.down {
            let (input, output, n) = (block.inChannels, block.outChannels, ParameterCount(block.resnetCount))
            total = total + ParameterCount.resnet(input, output, timeEmbedding: time)
                + ParameterCount(block.resnetCount - 1) * ParameterCount.resnet(output, output, timeEmbedding: time)
            if block.hasCrossAttention { total = total + n * transformer(block) }
            if block.resamples { total = total + ParameterCount.conv(block.outChannels, block.outChannels, kernel: 3) }
        }
        if let mid = layout.mid {
            total = total + ParameterCount.resnet(mid.outChannels, mid.outChannels, timeEmbedding: time) * 2 + transformer(mid)
        }
        for block in layout.up {
            // Resnet j takes the previous block's output (j = 0) or its own, plus a skip: the down
            // path's input channels for the last resnet, its output channels for the others.
            let (previous, input, output) = (block.previousOutChannels, block.inChannels, block.outChannels)
            func resnet(_ a: Int, _ b: Int) -> ParameterCount {
                ParameterCount.resnet((ParameterCount(a) + ParameterCount(b)).value, output, timeEmbedding: time)
            }
            if block.resnetCount == 1 {
                total = total + resnet(previous, input)
            } else {
                total = total + resnet(previous, output) + ParameterCount(block.resnetCount - 2) * resnet(output, output) + resnet(output, input)
            }
            if block.hasCrossAttention { total = total + ParameterCount(block.resnetCount) * transformer(block) }
            if block.resamples { total = total + ParameterCount.conv(block.outChannels, block.outChannels, kernel: 3) }
        }
        return total + ParameterCount.norm(first) + ParameterCount.conv(first, outChannels, kernel: convOutKernel)
    }

    /// Float32 parameters of the model this config builds (0 for an invalid config).
    public var parameterCount: Int { ((try? layout()).map { parameterTally($0) } ?? 0).value }
}

extension CLIPTextConfig {
    /// Float32 parameters of the CLIPTextModel this config builds (embeddings, layers, final norm).
    public var parameterCount: Int { parameterTally.value }

    var parameterTally: ParameterCount {
        let w = hiddenSize
        let layer = ParameterCount.norm(w) * 2 + ParameterCount.linear(w, w) * 4
            + ParameterCount.linear(w, intermediateSize) + ParameterCount.linear(intermediateSize, w)
        return ParameterCount(vocabSize) * ParameterCount(w) + ParameterCount(maxPositionEmbeddings) * ParameterCount(w)
            + layer * ParameterCount(numHiddenLayers) + ParameterCount.norm(w)
    }
}
