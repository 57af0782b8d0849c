// Loading and saving CLIPTextModel as a transformers component folder (config.json + model.safetensors).
import Foundation
import TensorCore

extension CLIPTextModel {
    /// A buffer older transformers checkpoints store; it holds 0..<L and no parameter.
    public static let positionIdsKey = "text_model.embeddings.position_ids"

    /// Reads `directory/config.json` and the weights (strict keys; F32/F16/BF16 data).
    public static func load(directory: URL) throws -> CLIPTextModel {
        try ComponentFiles.requireDirectory(directory)
        let config = try ConfigJSON.read(CLIPTextConfig.self, from: directory.appendingPathComponent("config.json"))
        let model = try CLIPTextModel(config: config, seed: nil)  // weights come from the file
        try ComponentFiles.loadWeights(into: model, from: directory, ignoring: [positionIdsKey])
        return model
    }

    /// Writes `directory/config.json` and `model.safetensors`, as transformers' save_pretrained does.
    public func save(directory: URL, dtype: SafetensorsDType = .f32) throws {
        try ComponentFiles.createDirectory(directory)
        try ConfigJSON.write(config, extra: config.transformersExtras(dtype: dtype), to: directory.appendingPathComponent("config.json"))
        try saveWeights(to: directory.appendingPathComponent("model.safetensors"), dtype: dtype)
    }
}
