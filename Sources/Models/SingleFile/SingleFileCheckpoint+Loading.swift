// Loads the text encoder, U-Net and VAE of a single file strictly: every LDM key used once, shapes checked.
import Foundation
import NN
import TensorCore

extension SingleFileCheckpoint {
    /// The three models, built from `configs` and filled tensor by tensor from the mapped file
    /// (no copy of the file beyond the models' own float32 weights). A missing, unexpected or
    /// mis-shaped key is an error naming the LDM key.
    public func load(_ configs: Configs) throws -> (textEncoder: CLIPTextModel, unet: UNet2DConditionModel, vae: AutoencoderKL) {
        let maps = try keyMaps(configs)
        let textEncoder = try CLIPTextModel(config: configs.text, seed: nil)  // weights come from the file
        let unet = try UNet2DConditionModel(config: configs.unet, seed: nil)
        let vae = try AutoencoderKL(config: configs.vae, seed: nil)
        let modules: [Module] = [textEncoder, unet, vae]

        var plan: [(parameter: Parameter, key: String, transform: LDMTransform)] = []
        for (module, map) in zip(modules, maps) {
            for (key, parameter) in module.namedParameters() {
                guard let (ldm, transform) = map.ldm(forDiffusers: key) else {
                    throw SingleFileError.unsupported(path: url.path, reason: "\(map.component) weight \(key) has no LDM name")
                }
                plan.append((parameter, ldm, transform))
            }
        }
        let missing = plan.map(\.key).filter { !file.contains($0) }
        if !missing.isEmpty { throw SingleFileError.missingKeys(Array(Set(missing)).sorted(), path: url.path) }
        let used = Set(plan.map(\.key))
        let unexpected = file.names.filter {
            !used.contains($0) && !Self.isIgnored($0, family: family, textLayers: configs.text.numHiddenLayers)
        }
        if !unexpected.isEmpty { throw SingleFileError.unexpectedKeys(unexpected, path: url.path) }

        for (parameter, key, transform) in plan {
            let expected = transform.ldmShape(parameter.shape)
            let found = try file.shape(key)
            guard found == expected else { throw SingleFileError.shapeMismatch(key: key, expected: expected, found: found, path: url.path) }
            var values = try file.floats(key)
            if case .third(let part) = transform {
                let n = values.count / 3
                values = Array(values[(part * n)..<((part + 1) * n)])   // rows of q, k or v in [3n, …]
            }
            try WeightsError.requireFinite(values, key: key, file: url.path)
            try parameter.assign(Tensor(shape: parameter.shape, values: values))
        }
        return (textEncoder, unet, vae)
    }
}
