// Configuration of transformers CLIPTextConfig (config.json names, transformers' defaults).
import Foundation

public struct CLIPTextConfig: Codable, Equatable {
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

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case projectionDim = "projection_dim", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", maxPositionEmbeddings = "max_position_embeddings"
        case hiddenAct = "hidden_act", layerNormEps = "layer_norm_eps", attentionDropout = "attention_dropout"
        case initializerRange = "initializer_range", initializerFactor = "initializer_factor"
        case padTokenId = "pad_token_id", bosTokenId = "bos_token_id", eosTokenId = "eos_token_id"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = CLIPTextConfig()
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? d.vocabSize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
        projectionDim = try c.decodeIfPresent(Int.self, forKey: .projectionDim) ?? d.projectionDim
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? d.numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? d.numAttentionHeads
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? d.maxPositionEmbeddings
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? d.hiddenAct
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? d.layerNormEps
        attentionDropout = try c.decodeIfPresent(Double.self, forKey: .attentionDropout) ?? d.attentionDropout
        initializerRange = try c.decodeIfPresent(Double.self, forKey: .initializerRange) ?? d.initializerRange
        initializerFactor = try c.decodeIfPresent(Double.self, forKey: .initializerFactor) ?? d.initializerFactor
        padTokenId = try c.decodeIfPresent(Int.self, forKey: .padTokenId) ?? d.padTokenId
        bosTokenId = try c.decodeIfPresent(Int.self, forKey: .bosTokenId) ?? d.bosTokenId
        eosTokenId = try c.decodeIfPresent(Int.self, forKey: .eosTokenId) ?? d.eosTokenId
    }

    /// The activation named by hidden_act; an unsupported name is an error naming it.
    public func activation() throws -> CLIPActivation {
        switch hiddenAct {
        case "quick_gelu": return .quickGelu
        case "gelu": return .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .geluTanh
        case "relu": return .relu
        default:
            throw PipelineFolderError.unsupportedConfig(type: "CLIPTextConfig", field: "hidden_act", value: hiddenAct,
                                                        reason: "supported: quick_gelu, gelu, gelu_new, gelu_pytorch_tanh, relu")
        }
    }

    /// Checks every value the model depends on; an unsupported one is an error naming it.
    public func validate() throws {
        func fail(_ field: String, _ value: Any, _ reason: String) -> PipelineFolderError {
            .unsupportedConfig(type: "CLIPTextConfig", field: field, value: "\(value)", reason: reason)
        }
        guard vocabSize > 0 else { throw fail("vocab_size", vocabSize, "must be positive") }
        guard hiddenSize > 0 else { throw fail("hidden_size", hiddenSize, "must be positive") }
        guard intermediateSize > 0 else { throw fail("intermediate_size", intermediateSize, "must be positive") }
        guard numHiddenLayers >= 1 else { throw fail("num_hidden_layers", numHiddenLayers, "must be at least 1") }
        guard numAttentionHeads > 0, hiddenSize % numAttentionHeads == 0 else {
            throw fail("num_attention_heads", numAttentionHeads, "must divide hidden_size \(hiddenSize)")
        }
        guard maxPositionEmbeddings > 0 else { throw fail("max_position_embeddings", maxPositionEmbeddings, "must be positive") }
        guard layerNormEps > 0 else { throw fail("layer_norm_eps", layerNormEps, "must be positive") }
        _ = try activation()
    }
}

/// The MLP nonlinearity of a CLIP text encoder.
public enum CLIPActivation: Equatable {
    case quickGelu, gelu, geluTanh, relu
}
