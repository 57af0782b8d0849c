// `diffuse info FILE.safetensors`: what a weights file is (SD 1.x/2.x checkpoint, VAE, LoRA, text encoder) and its parameter counts.
import Foundation
import Models
import TensorCore

/// What `info` prints for a safetensors file.
struct SafetensorsFileReport: Encodable {
    var file: String
    var kind: String
    var tensors: Int
    var dtype: String
    /// Elements per component (SD checkpoints: unet, vae, text_encoder, other).
    var components: [String: Int]
    var totalParameters: Int
    /// What the shapes say (U-Net input channels, inpainting, text layers, LoRA rank, …).
    var details: [String: String]

    enum CodingKeys: String, CodingKey {
        case file, kind, tensors, dtype, components, details
        case totalParameters = "total_parameters"
    }

    /// Which component an LDM key belongs to.
    static func component(_ key: String) -> String {
        if key.hasPrefix("model.diffusion_model.") { return "unet" }
        if key.hasPrefix("first_stage_model.") { return "vae" }
        if key.hasPrefix("cond_stage_model.") { return "text_encoder" }
        return "other"
    }

    init(url: URL) throws {
        try PickleCheckpoint.refuse(url)
        let file = try SafetensorsFile(contentsOf: url)
        let kind = CheckpointKind.classify(file.names)
        self.file = url.path
        self.kind = kind.name
        tensors = file.names.count
        var dtypes = Set<String>(), components: [String: Int] = [:], total = 0
        for name in file.names {
            let count = try file.count(name)
            dtypes.insert(try file.dtype(name).rawValue)
            total += count
            switch kind {
            case .stableDiffusion1, .stableDiffusion2: components[Self.component(name), default: 0] += count
            default: break
            }
        }
        dtype = dtypes.sorted().joined(separator: "+")
        self.components = components
        totalParameters = total
        details = [:]
        switch kind {
        case .stableDiffusion1, .stableDiffusion2:
            if let checkpoint = try? SingleFileCheckpoint(url: url), let configs = try? checkpoint.inferConfigs() {
                details["unet_in_channels"] = "\(configs.unet.inChannels)" + (configs.unet.inChannels == 9 ? " (inpainting)" : "")
                details["unet_block_out_channels"] = "\(configs.unet.blockOutChannels)"
                details["text_hidden_size"] = "\(configs.text.hiddenSize)"
                details["text_layers_used"] = "\(configs.text.numHiddenLayers)"
                details["vae_block_out_channels"] = "\(configs.vae.blockOutChannels)"
            }
        case .lora:
            // A file the loader refuses is still described, with the loader's reason.
            do { try describeLoRA(url) } catch { details["unusable"] = "\(error)" }
        default:
            break
        }
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func text() -> String {
        var lines = ["file:         \(file)", "kind:         \(kind)", "tensors:      \(tensors), \(dtype)"]
        for name in ["unet", "vae", "text_encoder", "other"] {
            if let count = components[name] { lines.append("\(name + ":")".padding(toLength: 14, withPad: " ", startingAt: 0) + "\(count) parameters") }
        }
        for key in details.keys.sorted() { lines.append("  \(key): \(details[key] ?? "")") }
        lines.append("total:        \(totalParameters) parameters")
        return lines.joined(separator: "\n")
    }
}

extension InfoCommand {
    /// Whether `path` names a weights file rather than an image.
    static func isWeightsFile(_ path: String) -> Bool {
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        return ext == "safetensors" || PickleCheckpoint.extensions.contains(ext)
    }

    static func safetensorsFileReport(path: String) throws -> SafetensorsFileReport {
        do { return try SafetensorsFileReport(url: URL(fileURLWithPath: path)) } catch {
            throw CommandFailure(message: "\(error)")
        }
    }
}
