// A model stored as one pipeline component folder (config.json + safetensors), loaded and saved one way.
import Foundation
import NN
import TensorCore

/// A model that is one component of a pipeline folder: the U-Net, the VAE, the text encoder.
public protocol ComponentModel: Module {
    associatedtype Config: ComponentConfig
    var config: Config { get }
    /// Fresh weights reproducible per `seed`, zeros without one; throws on an unsupported config.
    init(config: Config, seed: UInt64?) throws
    /// The class diffusers or transformers names it by (`_class_name`, model_index.json).
    static var className: String { get }
    /// The weight file `save` writes.
    static var weightsFileName: String { get }
    /// Checkpoint entries that hold no parameter and are skipped on load.
    static var ignoredWeightKeys: Set<String> { get }
    /// The entries config.json carries besides the fields (diffusers' `_class_name`, ...).
    static func configExtras(for config: Config, dtype: SafetensorsDType) -> [String: ConfigValue]
}

extension ComponentModel {
    public static var weightsFileName: String { ComponentFiles.weightFileNames[0] }
    public static var ignoredWeightKeys: Set<String> { [] }
    public static func configExtras(for config: Config, dtype: SafetensorsDType) -> [String: ConfigValue] {
        ["_class_name": .string(Self.className), "_diffusers_version": .string(ConfigFile.diffusersVersion)]
    }

    /// Reads and checks `directory/config.json`: unknown keys are ignored; a `_class_name` other
    /// than `className`, malformed JSON or an unsupported value is a `ConfigError` naming file and key.
    public static func loadConfig(directory: URL) throws -> Config {
        try ComponentFiles.readConfig(Config.self, in: directory, className: className)
    }

    /// Reads `directory/config.json` and the weights (the first of `ComponentFiles.weightFileNames`
    /// present; F32/F16/BF16 data). Strict: a missing, unexpected or mis-shaped weight is an error
    /// naming its full dotted key.
    public static func load(directory: URL) throws -> Self {
        try ComponentFiles.requireDirectory(directory)
        let model = try Self(config: loadConfig(directory: directory), seed: nil)  // weights come from the file
        try ComponentFiles.loadWeights(into: model, from: directory, ignoring: ignoredWeightKeys)
        return model
    }

    /// Writes `directory/config.json` (every field and the extras) and the weights in `dtype`
    /// into `directory`, created if needed; each file is written whole and renamed into place.
    public func save(directory: URL, dtype: SafetensorsDType = .f32) throws {
        try ComponentFiles.save(self, config: config, extra: Self.configExtras(for: config, dtype: dtype),
                                weightsFileName: Self.weightsFileName, to: directory, dtype: dtype)
    }
}
