// Loading and saving a UNet2DConditionModel folder as diffusers does (config.json + safetensors weights).
import Foundation
import NN
import TensorCore

extension UNet2DConditionModel {
    /// The weight file names tried in order: diffusers' default, then its fp16 variant.
    public static let weightFileNames = ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"]
    /// The diffusers version written into saved configs.
    public static let diffusersVersion = "0.39.0"

    /// Reads `config.json` of a diffusers `unet` folder: unknown keys are ignored, a wrong
    /// `_class_name`, malformed JSON or unsupported value is an error naming the file and field.
    public static func loadConfig(directory: URL) throws -> UNetConfig {
        let url = directory.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw UNetConfigError.file(path: url.path, reason: "cannot read the file")
        }
        let header: ClassHeader
        do { header = try JSONDecoder().decode(ClassHeader.self, from: data) } catch {
            throw UNetConfigError.file(path: url.path, reason: "not a JSON object: \(error)")
        }
        if let name = header.className, name != "UNet2DConditionModel" {
            throw UNetConfigError.file(path: url.path, reason: "_class_name is \"\(name)\", expected \"UNet2DConditionModel\"")
        }
        let config: UNetConfig
        do { config = try JSONDecoder().decode(UNetConfig.self, from: data) } catch let error as UNetConfigError {
            throw UNetConfigError.file(path: url.path, reason: error.description)
        } catch {
            throw UNetConfigError.file(path: url.path, reason: "invalid config: \(error)")
        }
        do { _ = try config.layout() } catch let error as UNetConfigError {
            throw UNetConfigError.file(path: url.path, reason: error.description)
        }
        return config
    }

    /// Loads a diffusers `unet` folder: `config.json` and `diffusion_pytorch_model.safetensors`
    /// (or the `.fp16.safetensors` variant; F32/F16/BF16 are converted to float32). Strict: a
    /// missing, unexpected or mis-shaped weight is an error naming its key.
    public static func load(directory: URL) throws -> UNet2DConditionModel {
        let config = try loadConfig(directory: directory)
        guard let weightsURL = weightFileNames.map({ directory.appendingPathComponent($0) })
            .first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw UNetConfigError.file(path: directory.path, reason: "no \(weightFileNames.joined(separator: " or "))")
        }
        let model = try UNet2DConditionModel(config: config, seed: nil)  // weights come from the file
        try model.loadWeights(from: SafetensorsFile(contentsOf: weightsURL))
        return model
    }

    /// Writes `config.json` (every field, with `_class_name` and `_diffusers_version`) and
    /// `diffusion_pytorch_model.safetensors` in `dtype` into `directory`, creating it if needed.
    /// Files are written to a temporary name and renamed into place.
    public func save(directory: URL, dtype: SafetensorsDType = .f32) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw UNetConfigError.file(path: directory.path, reason: "cannot create the directory: \(error.localizedDescription)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let url = directory.appendingPathComponent("config.json")
        do {
            var data = try encoder.encode(SavedConfig(config: config))
            data.append(0x0A)
            try data.write(to: url, options: .atomic)
        } catch {
            throw UNetConfigError.file(path: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
        try saveWeights(to: directory.appendingPathComponent(Self.weightFileNames[0]), dtype: dtype)
    }
}

/// The `_class_name` of a config.json, when present.
private struct ClassHeader: Decodable {
    let className: String?
    enum CodingKeys: String, CodingKey { case className = "_class_name" }
}

/// config.json as diffusers writes it: the config's fields plus `_class_name` and `_diffusers_version`.
private struct SavedConfig: Encodable {
    let config: UNetConfig

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
        try config.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode("UNet2DConditionModel", forKey: Key(stringValue: "_class_name"))
        try container.encode(UNet2DConditionModel.diffusersVersion, forKey: Key(stringValue: "_diffusers_version"))
    }
}
