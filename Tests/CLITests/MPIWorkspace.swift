// The MPI tests' workspace: eight captioned emoji and tiny VAE, U-Net and text-encoder configs.
import Foundation
import TestSupport

enum MPIWorkspace {
    /// Eight captioned 32×32 emoji and tiny model configs, in a fresh folder.
    static func make() throws -> URL {
        let work = try CLIFixture.temporaryDirectory()
        let data = work.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let emoji = try SharedData.url("datasets/emoji32")
        var captions = "file\tcaption\n"
        for (i, caption) in ["grinning face", "red apple", "dog face", "thumbs up", "rocket", "hot beverage", "sun", "snowman"].enumerated() {
            let name = String(format: "%05d.png", i * 7)
            try FileManager.default.copyItem(at: emoji.appendingPathComponent(name), to: data.appendingPathComponent(name))
            captions += "\(name)\t\(caption)\n"
        }
        try captions.write(to: data.appendingPathComponent("captions.tsv"), atomically: true, encoding: .utf8)
        try """
        {"_class_name": "AutoencoderKL", "block_out_channels": [32, 32], "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
         "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"], "layers_per_block": 1, "latent_channels": 4, "norm_num_groups": 8}
        """.write(to: work.appendingPathComponent("vae.json"), atomically: true, encoding: .utf8)
        try """
        {"_class_name": "UNet2DConditionModel", "block_out_channels": [32, 64], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
         "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "layers_per_block": 1, "cross_attention_dim": 32,
         "attention_head_dim": 8, "norm_num_groups": 8}
        """.write(to: work.appendingPathComponent("unet.json"), atomically: true, encoding: .utf8)
        try """
        {"_class_name": "CLIPTextModel", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
         "num_attention_heads": 2, "max_position_embeddings": 77, "hidden_act": "quick_gelu"}
        """.write(to: work.appendingPathComponent("text.json"), atomically: true, encoding: .utf8)
        return work
    }

    static func vaeArguments(_ work: URL, out: String, steps: Int) -> [String] {
        ["train-vae", "--data", work.appendingPathComponent("data").path, "--out", work.appendingPathComponent(out).path,
         "--config", work.appendingPathComponent("vae.json").path, "--steps", "\(steps)", "--batch-size", "4",
         "--warmup", "1", "--flip", "--threads", "1"]
    }

}
