// Matches transformers CLIPTextEmbeddings: token embedding + learned absolute position embedding.
import NN
import TensorCore

public final class CLIPTextEmbeddings: Module {
    public let tokenEmbedding: Embedding      // [vocab, D]
    public let positionEmbedding: Embedding   // [max_positions, D]

    init(config: CLIPTextConfig, initializer: inout Initializer) {
        tokenEmbedding = Embedding(config.vocabSize, config.hiddenSize, initializer: &initializer)
        positionEmbedding = Embedding(config.maxPositionEmbeddings, config.hiddenSize, initializer: &initializer)
    }

    public var children: [(String, Module)] {
        [("token_embedding", tokenEmbedding), ("position_embedding", positionEmbedding)]
    }

    /// ids [B·L] (validated by the caller) → [B, L, D]
    func callAsFunction(ids: [Int], batch: Int, length: Int) -> Tensor {
        let tokens = tokenEmbedding(ids, shape: [batch, length])               // [B, L, D]
        let positions = positionEmbedding(Array(0..<length), shape: [1, length])  // [1, L, D]
        return tokens + positions
    }
}
