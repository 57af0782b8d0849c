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
    /// The diffusers version written into saved configs.
    public static let diffusersVersion = "0.39.0"

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

    /// Writes a diffusers component: `config.json` (with `_class_name` and `_diffusers_version`)
    /// and `diffusion_pytorch_model.safetensors` in F32, F16 or BF16.
    public static func saveDiffusersComponent<Config: Encodable>(_ module: Module, config: Config, className: String,
                                                                 to directory: URL, dtype: SafetensorsDType = .f32) throws {
        try createDirectory(directory)
        try ConfigJSON.write(config, extra: ["_class_name": .string(className), "_diffusers_version": .string(diffusersVersion)],
                             to: directory.appendingPathComponent("config.json"))
        try module.saveWeights(to: directory.appendingPathComponent("diffusion_pytorch_model.safetensors"), dtype: dtype)
    }
}
