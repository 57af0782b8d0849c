// Locating, loading and writing a pipeline component's files (config.json + safetensors weights).
import Foundation
import NN
import TensorCore

public enum ComponentFiles {
    /// Weight file names tried in order: diffusers', transformers', then their fp16 variants.
    public static let weightFileNames = [
        "diffusion_pytorch_model.safetensors", "model.safetensors",
        "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors",
    ]
    /// `directory`, which must exist and be a directory.
    public static func requireDirectory(_ directory: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PipelineFolderError.missingDirectory(directory.path)
        }
    }

    /// The component's weight file: the first of `weightFileNames` present in `directory`.
    public static func weightsURL(in directory: URL) throws -> URL {
        try requireDirectory(directory)
        for name in weightFileNames {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) { return url }
        }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        if contents.contains(where: { $0.hasSuffix(".safetensors.index.json") }) {
            throw PipelineFolderError.unsupportedWeights(path: directory.path, reason: "sharded weights (*.safetensors.index.json) are not supported")
        }
        if contents.contains(where: { $0.hasSuffix(".bin") || $0.hasSuffix(".ckpt") }) {
            throw PipelineFolderError.unsupportedWeights(path: directory.path, reason: "only .safetensors weights are supported (found PyTorch pickle files)")
        }
        throw PipelineFolderError.missingFile(directory.appendingPathComponent(weightFileNames[0]).path
                                              + " (or " + weightFileNames.dropFirst().joined(separator: ", ") + ")")
    }

    /// Loads `module`'s parameters strictly from the component's weight file (F32/F16/BF16).
    public static func loadWeights(into module: Module, from directory: URL, ignoring ignoredKeys: Set<String> = []) throws {
        let file = try SafetensorsFile(contentsOf: weightsURL(in: directory))
        try module.loadWeights(from: file, ignoring: ignoredKeys)
    }

    /// Creates `directory` (and parents) if needed.
    public static func createDirectory(_ directory: URL) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw PipelineFolderError.writeFailed(path: directory.path, reason: error.localizedDescription)
        }
    }

    /// Reads `directory/config.json` and checks it: a `_class_name` other than `className` (when
    /// both are given), a wrong type or an unsupported value is a `ConfigError` naming the file and key.
    public static func readConfig<Config: ComponentConfig>(_ type: Config.Type, in directory: URL,
                                                          className: String? = nil) throws -> Config {
        let url = directory.appendingPathComponent(configFileName)
        if let className, let found = try ConfigFile.read(ClassHeader.self, from: url).className, found != className {
            throw ConfigError(file: url.path, key: "_class_name", reason: "is \"\(found)\", expected \"\(className)\"")
        }
        let config = try ConfigFile.read(type, from: url)
        do { try config.validate() } catch var error as ConfigError {
            error.file = url.path
            throw error
        }
        return config
    }

    /// Writes a component into `directory` (created if needed): `config.json` with the config's
    /// fields and `extra` entries, and the weights as `weightsFileName` in F32, F16 or BF16.
    public static func save<Config: Encodable>(_ module: Module, config: Config, extra: [String: ConfigValue],
                                               weightsFileName: String, to directory: URL,
                                               dtype: SafetensorsDType) throws {
        try createDirectory(directory)
        try ConfigFile.write(config, extra: extra, to: directory.appendingPathComponent(configFileName))
        try module.saveWeights(to: directory.appendingPathComponent(weightsFileName), dtype: dtype)
    }

    static let configFileName = "config.json"
}

/// The `_class_name` of a config.json, when present.
private struct ClassHeader: Decodable {
    let className: String?
    enum CodingKeys: String, CodingKey { case className = "_class_name" }
}
