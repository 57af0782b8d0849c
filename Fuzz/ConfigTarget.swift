// Every JSON config a pipeline folder holds, decoded and checked as loading does.
import Foundation
import Models
import Schedulers
import TensorCore

let configTarget = FuzzTarget(name: "config", summary: "config.json of U-Net, VAE, text encoder, scheduler; model_index.json") { bytes in
    let data = Data(bytes)
    // Each decoder sees the same bytes: a config of one kind is hostile input to the others.
    if let unet = try? ConfigFile.decode(UNetConfig.self, from: data, file: "unet/config.json") { try? unet.validate() }
    if let vae = try? ConfigFile.decode(AutoencoderKLConfig.self, from: data, file: "vae/config.json") { try? vae.validate() }
    if let text = try? ConfigFile.decode(CLIPTextConfig.self, from: data, file: "text_encoder/config.json") { try? text.validate() }
    if let index = try? ConfigFile.decode([String: ConfigValue].self, from: data, file: "model_index.json") {
        _ = ModelIndex(entries: index).components
    }
    let scheduler = try SchedulerConfig.decode(data, path: "scheduler/scheduler_config.json")
    // Building a schedule allocates num_train_timesteps entries: sizes beyond diffusers' own are a
    // memory limit to check where the engine validates configs, not a parser finding.
    guard (0...10_000).contains(scheduler.numTrainTimesteps), (scheduler.trainedBetas?.count ?? 0) <= 10_000 else { return }
    var made = try SchedulerKind.make(config: scheduler)
    for steps in [1, 7, 50] { try? made.setTimesteps(steps) }
}
