// A loaded diffusers pipeline folder: tokenizer, text encoder, U-Net, VAE and scheduler config.
import Foundation
import Models
import Schedulers
import TensorCore

public final class StableDiffusion {
    public let directory: URL
    public let tokenizer: CLIPTokenizer
    public let textEncoder: CLIPTextModel
    public let unet: UNet2DConditionModel
    public let vae: AutoencoderKL
    public let schedulerConfig: SchedulerConfig

    public init(directory: URL, tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel, unet: UNet2DConditionModel,
                vae: AutoencoderKL, schedulerConfig: SchedulerConfig) {
        self.directory = directory
        self.tokenizer = tokenizer
        self.textEncoder = textEncoder
        self.unet = unet
        self.vae = vae
        self.schedulerConfig = schedulerConfig
    }

    /// Loads every component of a pipeline folder (`model_index.json` and its subfolders).
    public static func load(directory: URL) throws -> StableDiffusion {
        let folder = try StableDiffusionPipelineFolder(directory: directory)
        let tokenizerDirectory = try folder.componentDirectory("tokenizer")
        let tokenizer = try CLIPTokenizer(directory: tokenizerDirectory)
        let textEncoder = try CLIPTextModel.load(directory: folder.componentDirectory("text_encoder"))
        try textEncoder.checkTokenizer(tokenizer, location: tokenizerDirectory.path)
        return StableDiffusion(
            directory: directory, tokenizer: tokenizer, textEncoder: textEncoder,
            unet: try UNet2DConditionModel.load(directory: folder.componentDirectory("unet")),
            vae: try AutoencoderKL.load(directory: folder.componentDirectory("vae")),
            schedulerConfig: try SchedulerConfig.load(from: folder.schedulerConfigURL()))
    }

    /// Pixels per latent along each side (2^(number of VAE down blocks − 1)).
    public var vaeScaleFactor: Int { 1 << (vae.config.blockOutChannels.count - 1) }
    /// Channels of the latents (the VAE's; an inpainting U-Net takes more: mask and masked image).
    public var latentChannels: Int { vae.config.latentChannels }

    /// The scheduler named on the command line (or the folder's own when nil), built from the
    /// folder's config as diffusers' `from_config` does.
    public func makeScheduler(named name: String?) throws -> Scheduler {
        if let name { return try Schedulers.makeScheduler(name: name, config: schedulerConfig) }
        return try Schedulers.makeScheduler(config: schedulerConfig)
    }

    /// Checks that a requested image size works with this model.
    public func validateSize(width: Int, height: Int) throws {
        let multiple = vaeScaleFactor * (1 << (unet.config.blockOutChannels.count - 1))
        guard width > 0, height > 0, width % multiple == 0, height % multiple == 0 else {
            throw PipelineError.invalidSize("width and height must be positive multiples of \(multiple) for this model, got \(width)×\(height)")
        }
        try checkPixels(width: width, height: height)
    }
}

public enum PipelineError: Error, CustomStringConvertible {
    case invalidSize(String)
    case invalidArgument(String)
    /// A request field out of range, by its name in the request (`steps`, `strength`, …), so
    /// the CLI and the server can each say it in their own terms (a flag, a JSON field).
    case invalidField(String, reason: String)

    public var description: String {
        switch self {
        case .invalidSize(let s), .invalidArgument(let s): return s
        case .invalidField(let field, let reason): return "\(field) \(reason)"
        }
    }
}
