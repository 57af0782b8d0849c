// `diffuse info MODEL_DIR` for diffusers pipeline folders: components, classes, exact parameter
// counts and on-disk dtypes (from the safetensors headers), and the key config values.
import Foundation
import Models
import TensorCore

/// One component of a pipeline folder as `info` reports it.
struct ModelComponentReport: Encodable {
    var library: String
    var className: String
    /// Elements over every tensor of the weight file (nil for components without weights).
    var parameters: Int?
    /// The weights' dtype(s) on disk, e.g. "F32", or "F16+F32" when mixed.
    var dtype: String?
    var weights: String?
    var weightBytes: Int?
    /// Selected config.json values (the ones that say what the model is).
    var config: [String: ConfigValue]

    enum CodingKeys: String, CodingKey {
        case library, parameters, dtype, weights, config
        case className = "class", weightBytes = "weight_bytes"
    }
}

/// What `info` prints for a model folder.
struct ModelFolderReport: Encodable {
    var folder: String
    var pipeline: String
    var diffusersVersion: String?
    var components: [String: ModelComponentReport]
    var totalParameters: Int
    /// The side of the images the model makes by default: the U-Net's latent `sample_size` times the
    /// VAE's down-sampling (one halving per block after the first); nil when the configs do not say.
    var imageSize: Int?

    enum CodingKeys: String, CodingKey {
        case folder, pipeline, components
        case diffusersVersion = "diffusers_version", totalParameters = "total_parameters", imageSize = "image_size"
    }

    /// The config keys worth showing for each component, in display order.
    static let keyConfig: [String: (file: String, keys: [String])] = [
        "unet": ("config.json", ["sample_size", "in_channels", "out_channels", "block_out_channels", "layers_per_block",
                                 "down_block_types", "up_block_types", "attention_head_dim", "num_attention_heads",
                                 "cross_attention_dim", "transformer_layers_per_block", "use_linear_projection", "norm_num_groups"]),
        "vae": ("config.json", ["sample_size", "block_out_channels", "layers_per_block", "latent_channels",
                                "norm_num_groups", "scaling_factor", "shift_factor"]),
        "text_encoder": ("config.json", ["hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                                         "hidden_act", "max_position_embeddings", "vocab_size", "projection_dim"]),
        "tokenizer": ("tokenizer_config.json", ["model_max_length", "pad_token"]),
        "scheduler": ("scheduler_config.json", ["prediction_type", "beta_schedule", "beta_start", "beta_end",
                                                "num_train_timesteps", "timestep_spacing", "steps_offset"]),
    ]
    static let componentOrder = ["unet", "vae", "text_encoder", "tokenizer", "scheduler"]

    init(folder url: URL) throws {
        let folder = try StableDiffusionPipelineFolder(directory: url)
        self.folder = url.path
        pipeline = folder.modelIndex.className
        diffusersVersion = folder.modelIndex.diffusersVersion
        components = [:]
        for (name, reference) in folder.modelIndex.components {
            let directory = try folder.componentDirectory(name)
            var report = ModelComponentReport(library: reference.library, className: reference.className, config: [:])
            if let wanted = Self.keyConfig[name] {
                let configURL = directory.appendingPathComponent(wanted.file)
                if FileManager.default.fileExists(atPath: configURL.path) {
                    let values = try ConfigFile.read([String: ConfigValue].self, from: configURL)
                    for key in wanted.keys { if let value = values[key], !value.isNull { report.config[key] = value } }
                }
            }
            if name != "tokenizer", name != "scheduler", let weightsURL = try? ComponentFiles.weightsURL(in: directory) {
                let file = try SafetensorsFile(contentsOf: weightsURL)
                var count = 0
                var dtypes = Set<String>()
                for tensor in file.names {
                    count += try file.count(tensor)
                    dtypes.insert(try file.dtype(tensor).rawValue)
                }
                report.parameters = count
                report.dtype = dtypes.sorted().joined(separator: "+")
                report.weights = "\(name)/\(weightsURL.lastPathComponent)"
                let attributes = try? FileManager.default.attributesOfItem(atPath: weightsURL.path)
                report.weightBytes = (attributes?[.size] as? NSNumber)?.intValue
            }
            components[name] = report
        }
        totalParameters = components.values.reduce(0) { $0 + ($1.parameters ?? 0) }
        if case .number(let latent)? = components["unet"]?.config["sample_size"], (1...65536).contains(latent),
           case .array(let blocks)? = components["vae"]?.config["block_out_channels"], (1...16).contains(blocks.count) {
            imageSize = Int(latent) << (blocks.count - 1)
        }
    }

    var orderedNames: [String] {
        Self.componentOrder.filter { components[$0] != nil } + components.keys.filter { !Self.componentOrder.contains($0) }.sorted()
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func text() -> String {
        var lines = ["folder:       \(folder)",
                     "pipeline:     \(pipeline)" + (diffusersVersion.map { " (diffusers \($0))" } ?? "")]
        if let imageSize { lines.append("image size:   \(imageSize)×\(imageSize) by default") }
        for name in orderedNames {
            guard let component = components[name] else { continue }
            var head = "\(name + ":")".padding(toLength: 14, withPad: " ", startingAt: 0) + component.className
            if let parameters = component.parameters { head += ", \(parameters) parameters" }
            if let dtype = component.dtype { head += ", \(dtype)" }
            lines.append(head)
            let keys = Self.keyConfig[name]?.keys ?? []
            for key in keys { if let value = component.config[key] { lines.append("  \(key): \(Self.render(value))") } }
        }
        lines.append("total:        \(totalParameters) parameters")
        return lines.joined(separator: "\n")
    }

    static func render(_ value: ConfigValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? "\(Int64(n))" : "\(n)"
        case .string(let s): return s
        case .array(let a): return "[" + a.map(render).joined(separator: ", ") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { "\($0): \(render(o[$0] ?? .null))" }.joined(separator: ", ") + "}"
        }
    }
}

extension InfoCommand {
    /// Describes a pipeline folder; failures become "<path as given>: <reason>".
    static func modelFolderReport(path: String) throws -> ModelFolderReport {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: url.appendingPathComponent(StableDiffusionPipelineFolder.modelIndexFileName).path) else {
            throw CommandFailure(message: "\(path): not a model folder (no model_index.json)")
        }
        do {
            return try ModelFolderReport(folder: url)
        } catch {
            throw CommandFailure(message: "\(path): \(error)")
        }
    }
}
