// Matches transformers CLIPTextTransformer (`text_model`): embeddings, encoder layers, final_layer_norm.
import NN
import TensorCore

public final class CLIPTextTransformer: Module {
    public let embeddings: CLIPTextEmbeddings
    public let layers: [CLIPEncoderLayer]
    public let finalLayerNorm: LayerNorm

    init(config: CLIPTextConfig, activation: CLIPActivation, initializer: inout Initializer) {
        embeddings = CLIPTextEmbeddings(config: config, initializer: &initializer)
        layers = (0..<config.numHiddenLayers).map { _ in
            CLIPEncoderLayer(config: config, activation: activation, initializer: &initializer)
        }
        finalLayerNorm = LayerNorm(config.hiddenSize, eps: Float(config.layerNormEps))
    }

    /// `encoder.layers.N` as transformers keys them (CLIPEncoder holds only the layer list).
    public var children: [(String, Module)] {
        [("embeddings", embeddings)] + numbered("encoder.layers", layers) + [("final_layer_norm", finalLayerNorm)]
    }
}
