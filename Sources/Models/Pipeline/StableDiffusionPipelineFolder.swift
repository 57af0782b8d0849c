// A diffusers Stable Diffusion pipeline folder on disk: model_index.json and one folder per component.
import Foundation
import TensorCore

public struct StableDiffusionPipelineFolder {
    public let directory: URL
    public let modelIndex: ModelIndex

    public static let modelIndexFileName = "model_index.json"

    /// Opens the folder at `directory`, reading its model_index.json.
    public init(directory: URL) throws {
        try ComponentFiles.requireDirectory(directory)
        self.directory = directory
        modelIndex = try ModelIndex(contentsOf: directory.appendingPathComponent(Self.modelIndexFileName))
    }

    init(directory: URL, modelIndex: ModelIndex) {
        self.directory = directory
        self.modelIndex = modelIndex
    }

    /// The directory of component `name`, which model_index.json must list and which must exist.
    public func componentDirectory(_ name: String) throws -> URL {
        guard modelIndex.components[name] != nil else {
            throw PipelineFolderError.missingComponent(name: name, modelIndex: directory.appendingPathComponent(Self.modelIndexFileName).path)
        }
        let component = directory.appendingPathComponent(name)
        try ComponentFiles.requireDirectory(component)
        return component
    }

    /// The component's directory after checking model_index.json names `className` for it.
    public func componentDirectory(_ name: String, expecting className: String) throws -> URL {
        let component = try componentDirectory(name)
        if let found = modelIndex.components[name]?.className, found != className {
            throw ConfigError(file: directory.appendingPathComponent(Self.modelIndexFileName).path, key: name,
                              reason: "names class \(found), expected \(className)")
        }
        return component
    }

    public func loadVAE() throws -> AutoencoderKL {
        try AutoencoderKL.load(directory: componentDirectory("vae", expecting: AutoencoderKL.className))
    }

    public func loadTextEncoder() throws -> CLIPTextModel {
        try CLIPTextModel.load(directory: componentDirectory("text_encoder", expecting: CLIPTextModel.className))
    }

    /// The tokenizer folder (vocab.json, merges.txt, …).
    public func tokenizerDirectory() throws -> URL { try componentDirectory("tokenizer") }

    /// scheduler/scheduler_config.json as written (its class is `modelIndex.components["scheduler"]`).
    public func schedulerConfigURL() throws -> URL {
        let file = try componentDirectory("scheduler").appendingPathComponent("scheduler_config.json")
        guard FileManager.default.fileExists(atPath: file.path) else { throw PipelineFolderError.missingFile(file.path) }
        return file
    }
}
