// Configuration of diffusers AutoencoderKL (config.json names, diffusers' defaults).
import Foundation

public struct AutoencoderKLConfig: Codable, Equatable {
    public var inChannels = 3
    public var outChannels = 3
    public var downBlockTypes = ["DownEncoderBlock2D"]
    public var upBlockTypes = ["UpDecoderBlock2D"]
    public var blockOutChannels = [64]
    public var layersPerBlock = 1
    public var actFn = "silu"
    public var latentChannels = 4
    public var normNumGroups = 32
    public var sampleSize = 32
    public var scalingFactor = 0.18215
    public var shiftFactor: Double? = nil
    public var latentsMean: [Double]? = nil
    public var latentsStd: [Double]? = nil
    public var forceUpcast = true
    public var useQuantConv = true
    public var usePostQuantConv = true
    public var midBlockAddAttention = true

    public init() {}

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels"
        case downBlockTypes = "down_block_types", upBlockTypes = "up_block_types"
        case blockOutChannels = "block_out_channels", layersPerBlock = "layers_per_block"
        case actFn = "act_fn", latentChannels = "latent_channels", normNumGroups = "norm_num_groups"
        case sampleSize = "sample_size", scalingFactor = "scaling_factor", shiftFactor = "shift_factor"
        case latentsMean = "latents_mean", latentsStd = "latents_std", forceUpcast = "force_upcast"
        case useQuantConv = "use_quant_conv", usePostQuantConv = "use_post_quant_conv"
        case midBlockAddAttention = "mid_block_add_attention"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AutoencoderKLConfig()
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? d.outChannels
        downBlockTypes = try c.decodeIfPresent([String].self, forKey: .downBlockTypes) ?? d.downBlockTypes
        upBlockTypes = try c.decodeIfPresent([String].self, forKey: .upBlockTypes) ?? d.upBlockTypes
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? d.blockOutChannels
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock) ?? d.layersPerBlock
        actFn = try c.decodeIfPresent(String.self, forKey: .actFn) ?? d.actFn
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels) ?? d.latentChannels
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups) ?? d.normNumGroups
        // Some configs write sample_size as [h, w]; the model does not depend on it.
        if let size = try? c.decodeIfPresent(Int.self, forKey: .sampleSize) { sampleSize = size }
        else if let sizes = try? c.decodeIfPresent([Int].self, forKey: .sampleSize), let first = sizes.first { sampleSize = first }
        scalingFactor = try c.decodeIfPresent(Double.self, forKey: .scalingFactor) ?? d.scalingFactor
        shiftFactor = try c.decodeIfPresent(Double.self, forKey: .shiftFactor)
        latentsMean = try c.decodeIfPresent([Double].self, forKey: .latentsMean)
        latentsStd = try c.decodeIfPresent([Double].self, forKey: .latentsStd)
        forceUpcast = try c.decodeIfPresent(Bool.self, forKey: .forceUpcast) ?? d.forceUpcast
        useQuantConv = try c.decodeIfPresent(Bool.self, forKey: .useQuantConv) ?? d.useQuantConv
        usePostQuantConv = try c.decodeIfPresent(Bool.self, forKey: .usePostQuantConv) ?? d.usePostQuantConv
        midBlockAddAttention = try c.decodeIfPresent(Bool.self, forKey: .midBlockAddAttention) ?? d.midBlockAddAttention
    }

    /// Writes every field, nulls included, as diffusers' `save_config` does.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inChannels, forKey: .inChannels)
        try c.encode(outChannels, forKey: .outChannels)
        try c.encode(downBlockTypes, forKey: .downBlockTypes)
        try c.encode(upBlockTypes, forKey: .upBlockTypes)
        try c.encode(blockOutChannels, forKey: .blockOutChannels)
        try c.encode(layersPerBlock, forKey: .layersPerBlock)
        try c.encode(actFn, forKey: .actFn)
        try c.encode(latentChannels, forKey: .latentChannels)
        try c.encode(normNumGroups, forKey: .normNumGroups)
        try c.encode(sampleSize, forKey: .sampleSize)
        try c.encode(scalingFactor, forKey: .scalingFactor)
        try c.encode(shiftFactor, forKey: .shiftFactor)
        try c.encode(latentsMean, forKey: .latentsMean)
        try c.encode(latentsStd, forKey: .latentsStd)
        try c.encode(forceUpcast, forKey: .forceUpcast)
        try c.encode(useQuantConv, forKey: .useQuantConv)
        try c.encode(usePostQuantConv, forKey: .usePostQuantConv)
        try c.encode(midBlockAddAttention, forKey: .midBlockAddAttention)
    }

    /// Checks every value the model depends on; an unsupported one is an error naming it.
    public func validate() throws {
        func fail(_ field: String, _ value: Any, _ reason: String) -> PipelineFolderError {
            .unsupportedConfig(type: "AutoencoderKLConfig", field: field, value: "\(value)", reason: reason)
        }
        guard !blockOutChannels.isEmpty, blockOutChannels.allSatisfy({ $0 > 0 }) else {
            throw fail("block_out_channels", blockOutChannels, "needs at least one positive channel count")
        }
        guard downBlockTypes.count == blockOutChannels.count else {
            throw fail("down_block_types", downBlockTypes, "needs one entry per block_out_channels entry")
        }
        guard upBlockTypes.count == blockOutChannels.count else {
            throw fail("up_block_types", upBlockTypes, "needs one entry per block_out_channels entry")
        }
        if let bad = downBlockTypes.first(where: { $0 != "DownEncoderBlock2D" }) {
            throw fail("down_block_types", bad, "only DownEncoderBlock2D is supported")
        }
        if let bad = upBlockTypes.first(where: { $0 != "UpDecoderBlock2D" }) {
            throw fail("up_block_types", bad, "only UpDecoderBlock2D is supported")
        }
        guard layersPerBlock >= 1 else { throw fail("layers_per_block", layersPerBlock, "must be at least 1") }
        guard inChannels > 0 else { throw fail("in_channels", inChannels, "must be positive") }
        guard outChannels > 0 else { throw fail("out_channels", outChannels, "must be positive") }
        guard latentChannels > 0 else { throw fail("latent_channels", latentChannels, "must be positive") }
        guard normNumGroups > 0, blockOutChannels.allSatisfy({ $0 % normNumGroups == 0 }) else {
            throw fail("norm_num_groups", normNumGroups, "must divide every block_out_channels entry \(blockOutChannels)")
        }
        guard scalingFactor.isFinite, scalingFactor != 0 else { throw fail("scaling_factor", scalingFactor, "must be finite and non-zero") }
        _ = try VAEActivation(name: actFn)
    }
}
