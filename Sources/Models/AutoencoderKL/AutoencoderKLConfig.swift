// Configuration of diffusers AutoencoderKL (config.json names, diffusers' defaults).
import Foundation
import TensorCore

public struct AutoencoderKLConfig: Equatable {
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
}

extension AutoencoderKLConfig: ComponentConfig {
    /// Absent keys (and nulls) keep diffusers' defaults; every field is written, nulls included,
    /// as diffusers' `save_config` does.
    public static let fields: [ConfigField<AutoencoderKLConfig>] = [
        .value("in_channels", \.inChannels),
        .value("out_channels", \.outChannels),
        .value("down_block_types", \.downBlockTypes),
        .value("up_block_types", \.upBlockTypes),
        .value("block_out_channels", \.blockOutChannels),
        .value("layers_per_block", \.layersPerBlock),
        .value("act_fn", \.actFn),
        .value("latent_channels", \.latentChannels),
        .value("norm_num_groups", \.normNumGroups),
        .value("sample_size", \.sampleSizeAsWritten),
        .value("scaling_factor", \.scalingFactor),
        .optional("shift_factor", \.shiftFactor),
        .optional("latents_mean", \.latentsMean),
        .optional("latents_std", \.latentsStd),
        .value("force_upcast", \.forceUpcast),
        .value("use_quant_conv", \.useQuantConv),
        .value("use_post_quant_conv", \.usePostQuantConv),
        .value("mid_block_add_attention", \.midBlockAddAttention),
    ]

    public init(from decoder: Decoder) throws { self.init(); try decodeFields(from: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeFields(to: encoder) }

    /// Checks every value the model depends on; an unsupported one is an error naming its key.
    public func validate() throws {
        guard !blockOutChannels.isEmpty, blockOutChannels.allSatisfy({ $0 > 0 }) else {
            throw Self.invalid(\.blockOutChannels, "\(blockOutChannels) needs at least one positive channel count")
        }
        // Each level halves the size: more than 12 would shift the scale factor 2^(levels-1) past any image.
        guard blockOutChannels.count <= 12 else { throw Self.invalid(\.blockOutChannels, "has \(blockOutChannels.count) levels; at most 12") }
        for path in [\AutoencoderKLConfig.downBlockTypes, \.upBlockTypes] where self[keyPath: path].count != blockOutChannels.count {
            throw Self.invalid(path, "has \(self[keyPath: path].count) entries for \(blockOutChannels.count) block_out_channels")
        }
        if let bad = downBlockTypes.first(where: { $0 != "DownEncoderBlock2D" }) {
            throw Self.unsupported(\.downBlockTypes, bad, supported: "DownEncoderBlock2D")
        }
        if let bad = upBlockTypes.first(where: { $0 != "UpDecoderBlock2D" }) {
            throw Self.unsupported(\.upBlockTypes, bad, supported: "UpDecoderBlock2D")
        }
        guard layersPerBlock >= 1 else { throw Self.invalid(\.layersPerBlock, "\(layersPerBlock) is less than 1") }
        for path in [\AutoencoderKLConfig.inChannels, \.outChannels, \.latentChannels] where self[keyPath: path] <= 0 {
            throw Self.invalid(path, "\(self[keyPath: path]) is not positive")
        }
        guard normNumGroups > 0, blockOutChannels.allSatisfy({ $0 % normNumGroups == 0 }) else {
            throw Self.invalid(\.normNumGroups, "\(normNumGroups) must divide every block_out_channels entry \(blockOutChannels)")
        }
        guard scalingFactor.isFinite, scalingFactor != 0 else {
            throw Self.invalid(\.scalingFactor, "\(scalingFactor) must be finite and non-zero")
        }
        _ = try activation()
        try checkParameterBytes(parameterTally)
    }

    /// The nonlinearity act_fn names; an unsupported name is an error naming the key.
    public func activation() throws -> ResnetActivation {
        guard let activation = ResnetActivation(name: actFn) else {
            throw Self.unsupported(\.actFn, actFn, supported: ResnetActivation.supportedNames)
        }
        return activation
    }

    /// `sample_size` as config.json holds it: an int, or `[h, w]` of which the first is kept
    /// (the model does not depend on it).
    var sampleSizeAsWritten: SampleSize {
        get { SampleSize(size: sampleSize) }
        set { if let size = newValue.size { sampleSize = size } }
    }

    struct SampleSize: Codable {
        var size: Int?

        init(size: Int) { self.size = size }

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let size = try? container.decode(Int.self) {
                self.size = size
            } else if let sizes = try? container.decode([Int].self) {
                size = sizes.first
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected Int or a list of Int")
            }
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(size)
        }
    }
}
