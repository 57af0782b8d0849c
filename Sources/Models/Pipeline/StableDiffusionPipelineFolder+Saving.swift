// Writing a pipeline folder that diffusers' StableDiffusionPipeline.from_pretrained loads unchanged.
import Foundation
import TensorCore

extension StableDiffusionPipelineFolder {
    /// Creates (or reuses) `directory` and writes `modelIndex` as its model_index.json.
    /// Components are then written with the `save…` methods (the U-Net with its own `save` into
    /// `componentDirectoryForWriting("unet")`).
    public static func create(at directory: URL, modelIndex: ModelIndex = .stableDiffusion()) throws -> StableDiffusionPipelineFolder {
        try ComponentFiles.createDirectory(directory)
        try modelIndex.write(to: directory.appendingPathComponent(modelIndexFileName))
        return StableDiffusionPipelineFolder(directory: directory, modelIndex: modelIndex)
    }

    /// The directory for component `name`, created if needed.
    public func componentDirectoryForWriting(_ name: String) throws -> URL {
        let component = directory.appendingPathComponent(name)
        try ComponentFiles.createDirectory(component)
        return component
    }

    public func save(vae: AutoencoderKL, dtype: SafetensorsDType = .f32) throws {
        try vae.save(directory: componentDirectoryForWriting("vae"), dtype: dtype)
    }

    public func save(textEncoder: CLIPTextModel, dtype: SafetensorsDType = .f32) throws {
        try textEncoder.save(directory: componentDirectoryForWriting("text_encoder"), dtype: dtype)
    }

    /// Copies the regular files of `source` (a tokenizer or scheduler folder) into component `name`.
    public func copyComponentFiles(_ name: String, from source: URL) throws {
        try ComponentFiles.requireDirectory(source)
        let destination = try componentDirectoryForWriting(name)
        let manager = FileManager.default
        let files: [String]
        do { files = try manager.contentsOfDirectory(atPath: source.path).sorted() } catch {
            throw PipelineFolderError.missingDirectory(source.path)
        }
        for file in files where !file.hasPrefix(".") {
            let from = source.appendingPathComponent(file), to = destination.appendingPathComponent(file)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: from.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            do { try Data(contentsOf: from).write(to: to, options: .atomic) } catch {
                throw PipelineFolderError.writeFailed(path: to.path, reason: error.localizedDescription)
            }
        }
    }

    /// Writes scheduler/scheduler_config.json from a config object (with `_class_name`).
    public func saveSchedulerConfig(_ entries: [String: ConfigValue]) throws {
        try ConfigFile.write(object: entries, to: componentDirectoryForWriting("scheduler").appendingPathComponent("scheduler_config.json"))
    }
}
