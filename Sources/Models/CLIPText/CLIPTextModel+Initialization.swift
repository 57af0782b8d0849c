// transformers' CLIPPreTrainedModel._init_weights for fresh text encoders (training from scratch).
import NN
import TensorCore

extension CLIPTextModel {
    /// Normal weights with transformers' standard deviations, zero linear biases, unit norms.
    func initializeLikeTransformers(_ initializer: inout Initializer) throws {
        let factor = Float(config.initializerFactor), d = Float(config.hiddenSize)
        let layers = Float(config.numHiddenLayers)
        let inProjStd = 1 / d.squareRoot() / (2 * layers).squareRoot() * factor
        let outProjStd = 1 / d.squareRoot() * factor
        let fcStd = 1 / (2 * d).squareRoot() * factor

        func fill(_ parameter: Parameter, std: Float) throws {
            try parameter.assign(initializer.normal(parameter.shape, std: std))  // rounded where stored in bf16
        }
        func fill(_ linear: Linear, std: Float) throws {
            try fill(linear.weight, std: std)
            if let bias = linear.bias { bias.value.pointer.update(repeating: 0, count: bias.value.count) }
        }
        try fill(textModel.embeddings.tokenEmbedding.weight, std: 0.02 * factor)
        try fill(textModel.embeddings.positionEmbedding.weight, std: 0.02 * factor)
        for layer in textModel.layers {
            let attention = layer.selfAttention
            for projection in [attention.qProj, attention.kProj, attention.vProj] { try fill(projection, std: inProjStd) }
            try fill(attention.outProj, std: outProjStd)
            try fill(layer.mlp.fc1, std: fcStd)
            try fill(layer.mlp.fc2, std: inProjStd)
        }
    }
}
