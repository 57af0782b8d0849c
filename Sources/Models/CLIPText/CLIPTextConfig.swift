// Configuration of transformers CLIPTextConfig (config.json names, transformers' defaults).
import Foundation
import TensorCore

public struct CLIPTextConfig: Equatable {
    public var vocabSize = 49408
    public var hiddenSize = 512
    public var intermediateSize = 2048
    public var projectionDim = 512
    public var numHiddenLayers = 12
    public var numAttentionHeads = 8
    public var maxPositionEmbeddings = 77
    public var hiddenAct = "quick_gelu"
    public var layerNormEps = 1e-5
    public var attentionDropout = 0.0
    public var initializerRange = 0.02
    public var initializerFactor = 1.0
    public var padTokenId = 1
    public var bosTokenId = 49406
    public var eosTokenId = 49407

    public init() {}
}

extension CLIPTextConfig: ComponentConfig {
    /// Absent keys (and nulls) keep transformers' defaults; every field is written.
    public static let fields: [ConfigField<CLIPTextConfig>] = [
        .value("vocab_size", \.vocabSize),
        .value("hidden_size", \.hiddenSize),
        .value("intermediate_size", \.intermediateSize),
        .value("projection_dim", \.projectionDim),
        .value("num_hidden_layers", \.numHiddenLayers),
        .value("num_attention_heads", \.numAttentionHeads),
        .value("max_position_embeddings", \.maxPositionEmbeddings),
        .value("hidden_act", \.hiddenAct),
        .value("layer_norm_eps", \.layerNormEps),
        .value("attention_dropout", \.attentionDropout),
        .value("initializer_range", \.initializerRange),
        .value("initializer_factor", \.initializerFactor),
        .value("pad_token_id", \.padTokenId),
        .value("bos_token_id", \.bosTokenId),
        .value("eos_token_id", \.eosTokenId),
    ]

    public init(from decoder: Decoder) throws { self.init(); try decodeFields(from: decoder) }
    public func encode(to encoder: Encoder) throws { try encodeFields(to: encoder) }

    /// The activation named by hidden_act; an unsupported name is an error naming the key.
    public func activation() throws -> CLIPActivation {
        switch hiddenAct {
        case "quick_gelu": return .quickGelu
        case "gelu": return .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .geluTanh
        case "relu": return .relu
        default:
            throw Self.unsupported(\.hiddenAct, hiddenAct, supported: "quick_gelu, gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu")
        }
    }

    /// Checks every value the model depends on; an unsupported one is an error naming its key.
    public func validate() throws {
        let positive: [WritableKeyPath<CLIPTextConfig, Int>] = [
            \.vocabSize, \.hiddenSize, \.intermediateSize, \.numHiddenLayers, \.maxPositionEmbeddings,
        ]
        for path in positive where self[keyPath: path] <= 0 { throw Self.invalid(path, "\(self[keyPath: path]) is not positive") }
        guard numAttentionHeads > 0, hiddenSize % numAttentionHeads == 0 else {
            throw Self.invalid(\.numAttentionHeads, "\(numAttentionHeads) must divide hidden_size \(hiddenSize)")
        }
        guard layerNormEps > 0 else { throw Self.invalid(\.layerNormEps, "\(layerNormEps) is not positive") }
        _ = try activation()
        try checkParameterBytes(parameterTally)
    }
}

/// The MLP nonlinearity of a CLIP text encoder.
public enum CLIPActivation: Equatable {
    case quickGelu, gelu, geluTanh, relu
}
