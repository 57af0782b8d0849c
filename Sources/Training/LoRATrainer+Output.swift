// What LoRA training writes: the adapters in diffusers' `save_lora_weights` layout, and sample grids.
import Foundation
import Imaging
import Models
import NN
import Pipelines
import TensorCore

extension LoRATrainer {
    /// `unet.<module>.lora_A.weight` / `lora_B.weight` (and `text_encoder.…`), float32. B carries
    /// the alpha/rank factor, so the file means the same with alpha = rank to every loader —
    /// diffusers' `load_lora_weights` with or without reading the metadata, kohya tools, ours.
    public func save(to url: URL) throws {
        let factor = options.effectiveAlpha / Float(options.rank)
        var writer = SafetensorsWriter()
        for (key, parameter) in adapters {
            let values = parameter.value.values
            try writer.add(key, shape: parameter.shape, floats: key.hasSuffix(".lora_B.weight") ? values.map { $0 * factor } : values)
        }
        // Each component's peft LoraConfig fields: diffusers' load_lora_weights builds a LoraConfig
        // from exactly these and needs rank_pattern and alpha_pattern among them.
        func loraConfig(_ component: String, _ layers: [String]) -> [String: Any] {
            ["\(component).r": options.rank, "\(component).lora_alpha": options.rank, "\(component).target_modules": layers,
             "\(component).rank_pattern": [String: Int](), "\(component).alpha_pattern": [String: Int](),
             "\(component).init_lora_weights": "gaussian"]
        }
        var config = loraConfig("unet", Self.unetLayers)
        if options.targets == .unetAndText { config.merge(loraConfig("text_encoder", Self.textLayers)) { $1 } }
        let json = try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])
        try writer.write(to: url, metadata: ["format": "pt", "lora_adapter_metadata": String(decoding: json, as: UTF8.self),
                                             "diffuse.trained_alpha": "\(options.effectiveAlpha)"])
    }

    /// One image per distinct caption (up to 8), seed 0, with the adapters as they are now.
    public func writeSampleGrid(to url: URL) throws {
        var seen = Set<String>()
        let prompts = captions.filter { seen.insert($0).inserted }.prefix(8)
        var images: [Image] = []
        for prompt in prompts {
            var request = GenerationRequest(prompt: prompt)
            request.steps = options.sampleSteps
            request.width = latentMeans.shape[3] * model.vaeScaleFactor
            request.height = latentMeans.shape[2] * model.vaeScaleFactor
            let image = try Autograd.withoutGrad { try model.generate(request).images.image() }
            images.append(try image.resized(width: 64, height: 64).labelled(String(prompt.prefix(10)), bandHeight: 10))
        }
        try Image.grid(images, columns: 4, padding: 2).writePNG(to: url)
    }
}
