// Configuration of UNet2DConditionModel: diffusers' config.json keys and defaults (SD 1.x/2.x subset).
import Foundation

/// The fields of diffusers' `UNet2DConditionModel` config. Property defaults are diffusers'
/// defaults; JSON keys are the config.json names (see `UNetConfig+Fields.swift`). Unknown keys
/// are tolerated; `validate()` rejects every value this implementation does not support.
public struct UNetConfig: Equatable {
    public var sampleSize: IntOrList? = nil
    public var inChannels: Int = 4
    public var outChannels: Int = 4
    public var centerInputSample: Bool = false
    public var flipSinToCos: Bool = true
    public var freqShift: Double = 0
    public var downBlockTypes: [String] = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    public var midBlockType: String? = "UNetMidBlock2DCrossAttn"
    public var upBlockTypes: [String] = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
    public var onlyCrossAttention: BoolOrList = .single(false)
    public var blockOutChannels: [Int] = [320, 640, 1280, 1280]
    public var layersPerBlock: IntOrList = .single(2)
    public var downsamplePadding: Int = 1
    public var midBlockScaleFactor: Double = 1
    public var dropout: Double = 0
    public var actFn: String = "silu"
    public var normNumGroups: Int? = 32
    public var normEps: Double = 1e-5
    public var crossAttentionDim: IntOrList = .single(1280)
    public var transformerLayersPerBlock: IntOrList = .single(1)
    public var reverseTransformerLayersPerBlock: [[Int]]? = nil
    public var encoderHidDim: Int? = nil
    public var encoderHidDimType: String? = nil
    /// Despite its name, the number of attention heads per block when `numAttentionHeads` is null
    /// (diffusers' naming quirk, kept for compatibility with existing configs).
    public var attentionHeadDim: IntOrList = .single(8)
    public var numAttentionHeads: IntOrList? = nil
    public var dualCrossAttention: Bool = false
    public var useLinearProjection: Bool = false
    public var classEmbedType: String? = nil
    public var additionEmbedType: String? = nil
    public var additionTimeEmbedDim: Int? = nil
    public var numClassEmbeds: Int? = nil
    /// Computing attention scores in float32 under half precision: a no-op here (float32 throughout).
    public var upcastAttention: Bool = false
    public var resnetTimeScaleShift: String = "default"
    public var resnetSkipTimeAct: Bool = false
    public var resnetOutScaleFactor: Double = 1.0
    public var timeEmbeddingType: String = "positional"
    public var timeEmbeddingDim: Int? = nil
    public var timeEmbeddingActFn: String? = nil
    public var timestepPostAct: String? = nil
    public var timeCondProjDim: Int? = nil
    public var convInKernel: Int = 3
    public var convOutKernel: Int = 3
    public var projectionClassEmbeddingsInputDim: Int? = nil
    public var attentionType: String = "default"
    public var classEmbeddingsConcat: Bool = false
    public var midBlockOnlyCrossAttention: Bool? = nil
    public var crossAttentionNorm: String? = nil
    public var additionEmbedTypeNumHeads: Int = 64

    /// diffusers' defaults (the SD 1.x layout).
    public init() {}

    /// An int or a per-block list (`layers_per_block`, `cross_attention_dim`, ...).
    public typealias IntOrList = SingleOrList<Int>
    /// A bool or a per-block list (`only_cross_attention`).
    public typealias BoolOrList = SingleOrList<Bool>

    /// One value for every block or a list of one per block, as config.json writes either.
    public enum SingleOrList<Element: Codable & Equatable>: Codable, Equatable {
        case single(Element)
        case list([Element])

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Element.self) {
                self = .single(value)
            } else if let values = try? container.decode([Element].self) {
                self = .list(values)
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected \(Element.self) or a list of \(Element.self)")
            }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .single(let value): try container.encode(value)
            case .list(let values): try container.encode(values)
            }
        }

        /// The values as written: `8` or `[2, 4]`.
        var jsonText: String {
            switch self {
            case .single(let value): return "\(value)"
            case .list(let values): return "\(values)"
            }
        }
    }
}

extension UNetConfig.SingleOrList where Element == Bool {
    var isAllFalse: Bool {
        switch self {
        case .single(let value): return !value
        case .list(let values): return !values.contains(true)
        }
    }
}
