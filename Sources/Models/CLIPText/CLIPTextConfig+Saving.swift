// Writing CLIPTextConfig as transformers' config.json (with architectures and model_type).
import Foundation
import TensorCore

extension CLIPTextConfig {
    /// The transformers version written into saved configs (the fixtures' version).
    public static let transformersVersion = "4.57.6"

    /// Entries transformers adds around the config fields; `dtype` names the saved weights' type.
    func transformersExtras(dtype: SafetensorsDType) -> [String: ConfigValue] {
        let torchType = dtype == .f16 ? "float16" : dtype == .bf16 ? "bfloat16" : "float32"
        return ["architectures": .array([.string("CLIPTextModel")]), "model_type": .string("clip_text_model"),
                "transformers_version": .string(Self.transformersVersion), "dtype": .string(torchType)]
    }
}
