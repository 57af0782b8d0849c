// Matches transformers CLIPTextModel: the text encoder of Stable Diffusion (keys `text_model.*`).
import NN
import TensorCore

public final class CLIPTextModel: Module {
    public let config: CLIPTextConfig
    public let textModel: CLIPTextTransformer

    /// A model with fresh seeded weights, initialised as transformers' CLIPPreTrainedModel does (zeros without a seed).
    public init(config: CLIPTextConfig, seed: UInt64? = 0) throws {
        try config.validate()
        var initializer = Initializer(seed: seed)
        self.config = config
        textModel = CLIPTextTransformer(config: config, activation: try config.activation(), initializer: &initializer)
        try initializeLikeTransformers(&initializer)
    }

    public var children: [(String, Module)] { [("text_model", textModel)] }

    /// Throws unless `ids` splits into `batch` equal rows of at most max_position_embeddings
    /// vocabulary ids. Call it on anything derived from user input before encoding.
    public func validate(ids: [Int], batch: Int) throws {
        guard batch > 0, !ids.isEmpty, ids.count % batch == 0 else {
            throw CLIPTextModelError.badInput("\(ids.count) ids do not split into \(batch) equal rows")
        }
        guard ids.count / batch <= config.maxPositionEmbeddings else {
            throw CLIPTextModelError.badInput("rows of \(ids.count / batch) ids exceed max_position_embeddings \(config.maxPositionEmbeddings)")
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw CLIPTextModelError.badInput("token id \(bad) outside the vocabulary 0..<\(config.vocabSize)")
        }
    }

    /// Encodes `batch` rows of token ids (`ids` holds batch·L ids, row-major; see `validate`).
    /// - lastHidden: final_layer_norm(last layer output) [B, L, D] (the usual prompt embedding)
    /// - penultimateNormed: final_layer_norm(second-to-last layer output) [B, L, D] (clip skip 1)
    /// - pooled: lastHidden at each row's first EOS [B, D] (argmax of ids for legacy eos_token_id 2)
    public func callAsFunction(ids: [Int], batch: Int) -> (lastHidden: Tensor, penultimateNormed: Tensor, pooled: Tensor) {
        let length = ids.count / batch
        var h = textModel.embeddings(ids: ids, batch: batch, length: length)   // [B, L, D]
        var penultimate = h
        for layer in textModel.layers {
            penultimate = h
            h = layer(h)
        }
        let lastHidden = textModel.finalLayerNorm(h)
        let penultimateNormed = textModel.finalLayerNorm(penultimate)
        let pooled = lastHidden.gatherRows(poolingPositions(ids: ids, batch: batch, length: length))   // [B, D]
        return (lastHidden, penultimateNormed, pooled)
    }

    /// The position pooled in each row: transformers takes argmax(ids) when eos_token_id == 2
    /// (configs from before the EOS id was set), else the first EOS (position 0 when none).
    func poolingPositions(ids: [Int], batch: Int, length: Int) -> [Int] {
        (0..<batch).map { b in
            let row = ids[(b * length)..<((b + 1) * length)]
            if config.eosTokenId == 2 {
                var best = row.startIndex
                for i in row.indices where row[i] > row[best] { best = i }
                return best - row.startIndex
            }
            return (row.firstIndex(of: config.eosTokenId) ?? row.startIndex) - row.startIndex
        }
    }
}

public enum CLIPTextModelError: Error, CustomStringConvertible {
    case badInput(String)
    public var description: String {
        switch self {
        case .badInput(let s): return "CLIPTextModel: \(s)"
        }
    }
}
