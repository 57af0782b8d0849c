// Converts a diffusers pipeline folder ↔ one LDM .safetensors file, tensor by tensor, bytes kept exact.
import Foundation
import TensorCore

public enum SingleFileConverter {
    /// What a conversion wrote and what it left out.
    public struct Summary {
        public var tensorsWritten = 0
        /// LDM keys that hold no diffusers weight (schedule buffers, EMA, text_projection, …).
        public var dropped: [String] = []
    }

    /// Tensors are written in `dtype`, or as stored when nil; a tensor that keeps its type keeps its bytes.
    public static let supportedDTypes: [SafetensorsDType] = [.f32, .f16, .bf16]

    // MARK: folder → file

    /// Writes the U-Net, VAE and text encoder of diffusers folder `folder` as one LDM file. The text
    /// encoder's layout follows its activation: gelu is SD 2's OpenCLIP (q/k/v fused), else SD 1's CLIP.
    public static func folderToFile(_ folder: URL, to output: URL, dtype: SafetensorsDType?) throws -> Summary {
        let pipeline = try StableDiffusionPipelineFolder(directory: folder)
        let configs = try SingleFileCheckpoint.readConfigs(folder: folder)
        let family: SingleFileCheckpoint.Family = configs.text.hiddenAct == "gelu" ? .sd2 : .sd1
        let maps = try SingleFileCheckpoint.keyMaps(configs, family: family, path: folder.path)

        struct Source { let file: SafetensorsFile; let name: String; let transform: LDMTransform }
        var groups: [String: [Source]] = [:]
        for map in maps {
            let file = try SafetensorsFile(contentsOf: ComponentFiles.weightsURL(in: pipeline.componentDirectory(map.component)))
            for name in file.names where name != CLIPTextModel.positionIdsKey {
                guard let (ldm, transform) = map.ldm(forDiffusers: name) else {
                    throw SingleFileError.unexpectedKeys([name], path: file.path + " (no LDM name for this diffusers key)")
                }
                groups[ldm, default: []].append(Source(file: file, name: name, transform: transform))
            }
        }
        var items: [SafetensorsStreamWriter.Item] = []
        for (ldm, sources) in groups {
            let first = sources[0]
            let type = try dtype ?? first.file.dtype(first.name)
            let shape = try first.transform.ldmShape(first.file.shape(first.name))
            if case .third = first.transform {
                // q, k, v stacked on dim 0 in that order, as OpenCLIP's in_proj holds them.
                var parts: [Source] = []
                for part in 0..<3 {
                    guard let source = sources.first(where: { $0.transform == .third(part) }) else {
                        throw SingleFileError.missingKeys(["\(["q", "k", "v"][part])_proj for \(ldm)"], path: first.file.path)
                    }
                    guard try source.file.shape(source.name) == first.file.shape(first.name) else {
                        throw SingleFileError.shapeMismatch(key: source.name, expected: try first.file.shape(first.name),
                                                            found: try source.file.shape(source.name), path: source.file.path)
                    }
                    parts.append(source)
                }
                items.append(.init(name: ldm, dtype: type, shape: shape) { try parts.flatMap { try $0.file.bytes($0.name, as: type) } })
            } else {
                guard sources.count == 1 else { throw SingleFileError.unexpectedKeys(sources.map(\.name), path: folder.path + " (several weights for \(ldm))") }
                items.append(.init(name: ldm, dtype: type, shape: shape) { try first.file.bytes(first.name, as: type) })
            }
        }
        try SafetensorsStreamWriter.write(items, to: output)
        return Summary(tensorsWritten: items.count)
    }

    // MARK: file → folder

    /// Writes `checkpoint` as a diffusers folder: model_index.json, each component's config.json and
    /// weights, the tokenizer folder copied from `tokenizer` and `scheduler` as scheduler_config.json.
    public static func fileToFolder(_ checkpoint: SingleFileCheckpoint, configs: SingleFileCheckpoint.Configs,
                                    modelIndex: ModelIndex, tokenizer: URL, scheduler: [String: ConfigValue],
                                    to output: URL, dtype: SafetensorsDType?) throws -> Summary {
        let file = checkpoint.file
        let maps = try checkpoint.keyMaps(configs)
        var items: [String: [SafetensorsStreamWriter.Item]] = [:]
        var summary = Summary()
        var unexpected: [String] = []
        for ldm in file.names {
            if SingleFileCheckpoint.isIgnored(ldm, family: checkpoint.family, textLayers: configs.text.numHiddenLayers) {
                summary.dropped.append(ldm)
                continue
            }
            guard let map = maps.first(where: { ldm.hasPrefix($0.ldmPrefix) }), let targets = map.diffusers(forLDM: ldm) else {
                unexpected.append(ldm)
                continue
            }
            let type = try dtype ?? file.dtype(ldm)
            let shape = try file.shape(ldm)
            for (key, transform) in targets {
                guard let target = transform.diffusersShape(shape) else {
                    throw SingleFileError.shapeMismatch(key: ldm, expected: transform == .squeezed ? [shape.first ?? 0, shape.dropFirst().first ?? 0, 1, 1] : [3 * (shape.first ?? 0)],
                                                        found: shape, path: file.path)
                }
                items[map.component, default: []].append(.init(name: key, dtype: type, shape: target) {
                    let bytes = try file.bytes(ldm, as: type)
                    guard case .third(let part) = transform else { return bytes }
                    let n = bytes.count / 3
                    return Array(bytes[(part * n)..<((part + 1) * n)])   // rows of q, k or v
                })
            }
        }
        if !unexpected.isEmpty { throw SingleFileError.unexpectedKeys(unexpected, path: file.path) }

        let folder = try StableDiffusionPipelineFolder.create(at: output, modelIndex: modelIndex)
        let savedType = dtype ?? (try? file.dtype(file.names.first ?? "")) ?? .f32
        let unet = try folder.componentDirectoryForWriting("unet")
        try ConfigFile.write(configs.unet, extra: UNet2DConditionModel.configExtras(for: configs.unet, dtype: savedType),
                             to: unet.appendingPathComponent("config.json"))
        let vae = try folder.componentDirectoryForWriting("vae")
        try ConfigFile.write(configs.vae, extra: AutoencoderKL.configExtras(for: configs.vae, dtype: savedType),
                             to: vae.appendingPathComponent("config.json"))
        let text = try folder.componentDirectoryForWriting("text_encoder")
        try ConfigFile.write(configs.text, extra: CLIPTextModel.configExtras(for: configs.text, dtype: savedType),
                             to: text.appendingPathComponent("config.json"))
        let weightFiles = ["unet": unet.appendingPathComponent("diffusion_pytorch_model.safetensors"),
                           "vae": vae.appendingPathComponent("diffusion_pytorch_model.safetensors"),
                           "text_encoder": text.appendingPathComponent("model.safetensors")]
        for (component, url) in weightFiles {
            let componentItems = items[component] ?? []
            try SafetensorsStreamWriter.write(componentItems, metadata: ["format": "pt"], to: url)
            summary.tensorsWritten += componentItems.count
        }
        try folder.copyComponentFiles("tokenizer", from: tokenizer)
        try folder.saveSchedulerConfig(scheduler)
        return summary
    }
}
