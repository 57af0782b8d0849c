// CLIPTextModel as a transformers component folder (config.json + model.safetensors).
import TensorCore

extension CLIPTextModel: ComponentModel {
    public static let className = "CLIPTextModel"
    public static let weightsFileName = "model.safetensors"
    /// A buffer older transformers checkpoints store; it holds 0..<L and no parameter.
    public static let positionIdsKey = "text_model.embeddings.position_ids"
    public static var ignoredWeightKeys: Set<String> { [positionIdsKey] }

    /// transformers' entries (architectures, model_type, versions, dtype) instead of diffusers'.
    public static func configExtras(for config: CLIPTextConfig, dtype: SafetensorsDType) -> [String: ConfigValue] {
        config.transformersExtras(dtype: dtype)
    }
}
