// Loading and saving AutoencoderKL as a diffusers component folder (config.json + safetensors).
import Foundation
import TensorCore

extension AutoencoderKL {
    public static let className = "AutoencoderKL"

    /// Reads `directory/config.json` and the weights (strict keys; F32/F16/BF16 data).
    public static func load(directory: URL) throws -> AutoencoderKL {
        try ComponentFiles.requireDirectory(directory)
        let config = try ConfigJSON.read(AutoencoderKLConfig.self, from: directory.appendingPathComponent("config.json"))
        let model = try AutoencoderKL(config: config, seed: nil)  // weights come from the file
        try ComponentFiles.loadWeights(into: model, from: directory)
        return model
    }

    /// Writes `directory/config.json` and `diffusion_pytorch_model.safetensors`, as diffusers saves them.
    public func save(directory: URL, dtype: SafetensorsDType = .f32) throws {
        try ComponentFiles.saveDiffusersComponent(self, config: config, className: Self.className, to: directory, dtype: dtype)
    }
}
