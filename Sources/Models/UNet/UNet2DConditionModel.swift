// The text-conditioned denoising U-Net; matches diffusers UNet2DConditionModel (SD 1.x/2.x configurations).
import Foundation
import NN
import TensorCore

public final class UNet2DConditionModel: Module {
    public let config: UNetConfig
    public let layout: UNetConfig.Layout
    public let convIn: Conv2d
    public let timeEmbedding: UNetTimestepEmbedding
    public let downBlocks: [UNetDownBlock]
    public let midBlock: UNetMidBlock?
    public let upBlocks: [UNetUpBlock]
    public let convNormOut: GroupNorm
    public let convOut: Conv2d

    /// A model with fresh weights (PyTorch's default initialisation), reproducible per `seed`; zeros without one.
    /// Throws when the config holds a value this implementation does not support.
    public init(config: UNetConfig, seed: UInt64? = 0) throws {
        try config.validate()  // refuses a model over the parameter limit before allocating it
        let layout = try config.layout()
        self.config = config
        self.layout = layout
        var initializer = Initializer(seed: seed)
        let channels = config.blockOutChannels
        let timeEmbedDim = layout.timeEmbedDim
        convIn = Conv2d(config.inChannels, channels[0], kernelSize: config.convInKernel,
                        padding: (config.convInKernel - 1) / 2, initializer: &initializer)
        timeEmbedding = UNetTimestepEmbedding(inputDim: channels[0], embedDim: timeEmbedDim, initializer: &initializer)
        downBlocks = layout.down.map {
            UNetDownBlock(layout: $0, config: config, timeEmbedDim: timeEmbedDim, groups: layout.groups, initializer: &initializer)
        }
        midBlock = layout.mid.map {
            UNetMidBlock(layout: $0, config: config, timeEmbedDim: timeEmbedDim, groups: layout.groups, initializer: &initializer)
        }
        upBlocks = layout.up.map {
            UNetUpBlock(layout: $0, config: config, timeEmbedDim: timeEmbedDim, groups: layout.groups, initializer: &initializer)
        }
        convNormOut = GroupNorm(groups: layout.groups, channels: channels[0], eps: Float(config.normEps))
        convOut = Conv2d(channels[0], config.outChannels, kernelSize: config.convOutKernel,
                         padding: (config.convOutKernel - 1) / 2, initializer: &initializer)
    }

    public var children: [(String, Module)] {
        var result: [(String, Module)] = [("conv_in", convIn), ("time_embedding", timeEmbedding)]
        result += numbered("down_blocks", downBlocks)
        if let midBlock { result.append(("mid_block", midBlock)) }
        result += numbered("up_blocks", upBlocks)
        result += [("conv_norm_out", convNormOut), ("conv_out", convOut)]
        return result
    }

    /// Checks that inputs fit this model; call where sizes come from users (flags, files).
    /// sample [N, in_channels, H, W] with H, W divisible by 2^(down blocks − 1); `timesteps`
    /// one per sample or one for all; context [N, S, cross_attention_dim].
    public func validateInputs(sampleShape: [Int], timestepCount: Int, contextShape: [Int]) throws {
        guard sampleShape.count == 4, sampleShape[1] == config.inChannels, sampleShape.allSatisfy({ $0 > 0 }) else {
            throw UNet2DConditionModelError.badInput("sample has shape \(sampleShape), expected [N, \(config.inChannels), H, W]")
        }
        let factor = 1 << config.downsampleCount
        guard sampleShape[2] % factor == 0, sampleShape[3] % factor == 0 else {
            throw UNet2DConditionModelError.badInput("sample height and width \(sampleShape[2])×\(sampleShape[3]) must be divisible by \(factor)")
        }
        let n = sampleShape[0]
        guard timestepCount == 1 || timestepCount == n else {
            throw UNet2DConditionModelError.badInput("\(timestepCount) timesteps for a batch of \(n) (give 1 or \(n))")
        }
        let crossDims = Set((layout.down + layout.up + (layout.mid.map { [$0] } ?? [])).filter(\.hasCrossAttention).map(\.crossAttentionDim))
        guard contextShape.count == 3, contextShape[0] == n, contextShape[1] > 0,
              crossDims.isEmpty || crossDims == [contextShape[2]] else {
            throw UNet2DConditionModelError.badInput("context has shape \(contextShape), expected [\(n), S, \(crossDims.sorted().map(String.init).joined(separator: "/"))]")
        }
    }

    /// Validates the inputs, then runs the forward pass.
    public func forward(_ sample: Tensor, timesteps: [Float], context: Tensor) throws -> Tensor {
        try validateInputs(sampleShape: sample.shape, timestepCount: timesteps.count, contextShape: context.shape)
        return self(sample, timesteps: timesteps, context: context)
    }

    /// The predicted noise (or v) [N, out_channels, H, W] for sample [N, in_channels, H, W] at
    /// `timesteps` (one per sample, or one broadcast to the batch; may be fractional) given
    /// context [N, S, cross_attention_dim]. Inputs must satisfy `validateInputs`.
    public func callAsFunction(_ sample: Tensor, timesteps: [Float], context: Tensor) -> Tensor {
        let n = sample.shape[0]
        let perSample = timesteps.count == n ? timesteps : Array(repeating: timesteps.first ?? 0, count: n)
        let projected = UNetTimestepEmbedding.sinusoidal(perSample, dim: config.blockOutChannels[0],
                                                         flipSinToCos: config.flipSinToCos,
                                                         downscaleFreqShift: config.freqShift)   // [N, C0]
        // Every resnet applies SiLU to the embedding first; do it once here.
        let temb = timeEmbedding(projected).silu()                                            // [N, T]

        // bf16: every cross-attention's keys and values read one bf16 copy of the context.
        let context = ComputePrecision.mode == .bfloat16 ? context.sharedInBFloat16() : context
        var h = convIn(config.centerInputSample ? sample * 2 - 1 : sample)                   // [N, C0, H, W]
        var skips = [h]
        for block in downBlocks {
            let (out, states) = block(h, activatedTimeEmbedding: temb, context: context)
            h = out
            skips += states
        }
        if let midBlock { h = midBlock(h, activatedTimeEmbedding: temb, context: context) }
        for block in upBlocks {
            let count = block.resnets.count
            h = block(h, skips: Array(skips.suffix(count)), activatedTimeEmbedding: temb, context: context)
            skips.removeLast(count)
        }
        return convOut(convNormOut(h, silu: true))                                           // [N, out, H, W]
    }
}

public enum UNet2DConditionModelError: Error, CustomStringConvertible {
    case badInput(String)
    public var description: String {
        switch self {
        case .badInput(let s): return "UNet2DConditionModel input: \(s)"
        }
    }
}
