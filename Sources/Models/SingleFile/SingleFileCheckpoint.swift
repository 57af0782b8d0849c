// A Stable Diffusion checkpoint in one .safetensors file with original LDM names (SD WebUI, ComfyUI, sd.cpp).
import Foundation
import TensorCore

public struct SingleFileCheckpoint {
    /// Which SD generation the file's names and shapes say it is.
    public enum Family: String, Sendable {
        case sd1 = "SD 1.x", sd2 = "SD 2.x"
    }

    /// The configs a single file lacks: from a diffusers folder (`--config`) or inferred from shapes.
    public struct Configs {
        public var unet: UNetConfig
        public var vae: AutoencoderKLConfig
        public var text: CLIPTextConfig
        public init(unet: UNetConfig, vae: AutoencoderKLConfig, text: CLIPTextConfig) {
            self.unet = unet
            self.vae = vae
            self.text = text
        }
    }

    public let url: URL
    /// Memory-mapped: tensors are read one at a time, straight into the model's weights.
    public let file: SafetensorsFile
    public let family: Family

    /// Opens `url`: refuses pickle files, then recognises the family from the keys.
    public init(url: URL) throws {
        try PickleCheckpoint.refuse(url)
        try self.init(file: SafetensorsFile(contentsOf: url), url: url)
    }

    /// Recognises the family of an already parsed file.
    init(file: SafetensorsFile, url: URL) throws {
        switch CheckpointKind.classify(file.names) {
        case .stableDiffusion1: family = .sd1
        case .stableDiffusion2: family = .sd2
        case let other:
            throw SingleFileError.notACheckpoint(path: url.path, reason: "it holds a \(other.name); a checkpoint has "
                + "model.diffusion_model.*, first_stage_model.* and cond_stage_model.transformer.* (SD 1.x) or cond_stage_model.model.* (SD 2.x)")
        }
        self.url = url
        self.file = file
    }

    /// The three components' key maps for these configs.
    public func keyMaps(_ configs: Configs) throws -> [LDMKeyMap] {
        try Self.keyMaps(configs, family: family, path: url.path)
    }

    public static func keyMaps(_ configs: Configs, family: Family, path: String) throws -> [LDMKeyMap] {
        let text = family == .sd1 ? LDMKeyMap.clipText() : LDMKeyMap.openCLIPText(layers: configs.text.numHiddenLayers)
        return [text, try LDMKeyMap.unet(config: configs.unet, path: path),
                LDMKeyMap.vae(levels: configs.vae.blockOutChannels.count, layersPerBlock: configs.vae.layersPerBlock)]
    }

    /// DDPM schedule buffers that LDM checkpoints carry and no diffusers model reads.
    public static let scheduleBuffers: Set<String> = [
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
        "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2", "logvar", "lvlb_weights",
    ]

    /// LDM keys that hold no diffusers weight, skipped as diffusers' from_single_file skips them:
    /// schedule buffers, EMA copies (`model_ema.*`), the VAE's training loss, CLIP's position_ids,
    /// OpenCLIP's text_projection and logit_scale, and SD 2's last text block (it uses the penultimate).
    public static func isIgnored(_ key: String, family: Family, textLayers: Int) -> Bool {
        if scheduleBuffers.contains(key) || key.hasPrefix("model_ema.") || key.hasPrefix("first_stage_model.loss.") { return true }
        switch family {
        case .sd1:
            return key == "cond_stage_model.transformer.text_model.embeddings.position_ids"
        case .sd2:
            return key == "cond_stage_model.model.text_projection" || key == "cond_stage_model.model.logit_scale"
                || key.hasPrefix("cond_stage_model.model.transformer.resblocks.\(textLayers).")
        }
    }
}
