// model_index.json of a diffusers pipeline folder: the pipeline class and its components.
import Foundation
import TensorCore

/// Which library and class a component folder holds (`"vae": ["diffusers", "AutoencoderKL"]`).
public struct ComponentReference: Equatable {
    public var library: String
    public var className: String
    public init(library: String, className: String) {
        self.library = library
        self.className = className
    }
}

public struct ModelIndex: Equatable {
    /// Every entry as written, so saving keeps options this code does not interpret.
    public private(set) var entries: [String: ConfigValue]

    public init(entries: [String: ConfigValue]) { self.entries = entries }

    /// Reads and checks `url` (a JSON object with a string `_class_name`).
    public init(contentsOf url: URL) throws {
        let entries = try ConfigFile.read([String: ConfigValue].self, from: url)
        guard entries["_class_name"]?.stringValue != nil else {
            throw ConfigError(file: url.path, key: "_class_name", reason: "missing or not a string")
        }
        self.entries = entries
    }

    /// The pipeline class (`StableDiffusionPipeline`).
    public var className: String { entries["_class_name"]?.stringValue ?? "" }
    public var diffusersVersion: String? { entries["_diffusers_version"]?.stringValue }

    /// Components present in the folder: entries `[library, class]` with both strings (nulls excluded).
    public var components: [String: ComponentReference] {
        var result: [String: ComponentReference] = [:]
        for (name, value) in entries where !name.hasPrefix("_") {
            if case .array(let pair) = value, pair.count == 2, let library = pair[0].stringValue, let className = pair[1].stringValue {
                result[name] = ComponentReference(library: library, className: className)
            }
        }
        return result
    }

    public mutating func setComponent(_ name: String, _ reference: ComponentReference?) {
        entries[name] = reference.map { .array([.string($0.library), .string($0.className)]) } ?? .array([.null, .null])
    }

    /// The index diffusers writes for a StableDiffusionPipeline without safety checker.
    public static func stableDiffusion(schedulerClassName: String = "PNDMScheduler") -> ModelIndex {
        let none = ConfigValue.array([.null, .null])
        func component(_ library: String, _ className: String) -> ConfigValue { .array([.string(library), .string(className)]) }
        return ModelIndex(entries: [
            "_class_name": .string("StableDiffusionPipeline"),
            "_diffusers_version": .string(ConfigFile.diffusersVersion),
            "feature_extractor": none, "image_encoder": none, "safety_checker": none,
            "requires_safety_checker": .bool(false),
            "scheduler": component("diffusers", schedulerClassName),
            "text_encoder": component("transformers", "CLIPTextModel"),
            "tokenizer": component("transformers", "CLIPTokenizer"),
            "unet": component("diffusers", "UNet2DConditionModel"),
            "vae": component("diffusers", "AutoencoderKL"),
        ])
    }

    /// Writes the index atomically with sorted keys.
    public func write(to url: URL) throws {
        try ConfigFile.write(object: entries, to: url)
    }
}
