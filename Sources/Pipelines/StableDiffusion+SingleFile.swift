// Loading a Stable Diffusion single-file checkpoint (original LDM layout) beside folder loading.
import Foundation
import Models
import Schedulers
import TensorCore

extension StableDiffusion {
    /// SD's own sampler for a single file, as diffusers' from_single_file sets it up: PNDM (PLMS
    /// steps) over SD's scaled-linear betas 0.00085–0.012; `--scheduler` picks another over them.
    public static func singleFileSchedulerEntries(predictionType: PredictionType) -> [String: ConfigValue] {
        ["_class_name": .string("PNDMScheduler"), "_diffusers_version": .string(ConfigFile.diffusersVersion),
         "num_train_timesteps": .number(1000), "beta_start": .number(0.00085), "beta_end": .number(0.012),
         "beta_schedule": .string("scaled_linear"), "trained_betas": .null, "skip_prk_steps": .bool(true),
         "set_alpha_to_one": .bool(false), "steps_offset": .number(1), "timestep_spacing": .string("leading"),
         "clip_sample": .bool(false), "prediction_type": .string(predictionType.rawValue)]
    }

    /// What the file cannot say: SD 2.x files are taken as v-prediction (the 768-px models, as
    /// from_single_file assumes), SD 1.x as epsilon.
    public static func defaultPredictionType(_ family: SingleFileCheckpoint.Family) -> PredictionType {
        family == .sd2 ? .vPrediction : .epsilon
    }

    /// Loads one .safetensors checkpoint. `config`: a diffusers folder whose unet/vae/text_encoder
    /// configs, tokenizer and scheduler replace what is inferred (for files not of SD's sizes);
    /// otherwise sizes come from shapes, the tokenizer from `defaultTokenizer(family)` and the
    /// scheduler is SD's PNDM. `predictionType` (`epsilon`, `v_prediction`) overrides either.
    public static func load(singleFile url: URL, config folder: URL?, predictionType: PredictionType?,
                            defaultTokenizer: (SingleFileCheckpoint.Family) throws -> URL) throws -> StableDiffusion {
        let checkpoint = try SingleFileCheckpoint(url: url)
        let configs: SingleFileCheckpoint.Configs
        let tokenizerURL: URL
        var scheduler: SchedulerConfig
        if let folder {
            let pipeline = try StableDiffusionPipelineFolder(directory: folder)
            configs = try SingleFileCheckpoint.readConfigs(folder: folder)
            tokenizerURL = try pipeline.tokenizerDirectory()
            scheduler = try SchedulerConfig.load(from: pipeline.schedulerConfigURL())
        } else {
            configs = try checkpoint.inferConfigs()
            tokenizerURL = try defaultTokenizer(checkpoint.family)
            scheduler = try singleFileSchedulerConfig(predictionType: defaultPredictionType(checkpoint.family))
        }
        if let predictionType {
            scheduler = scheduler.setting({ $0.predictionType = predictionType }, keys: ["prediction_type"])
        }
        let models = try checkpoint.load(configs)
        let tokenizer = try CLIPTokenizer(directory: tokenizerURL)
        try models.textEncoder.checkTokenizer(tokenizer, location: tokenizerURL.path)
        return StableDiffusion(directory: url, tokenizer: tokenizer, textEncoder: models.textEncoder,
                               unet: models.unet, vae: models.vae, schedulerConfig: scheduler)
    }

    public static func singleFileSchedulerConfig(predictionType: PredictionType) throws -> SchedulerConfig {
        try SchedulerConfig.decode(JSONEncoder().encode(singleFileSchedulerEntries(predictionType: predictionType)), path: "PNDMScheduler (SD)")
    }
}
