// The adapter configs diffusers' `save_lora_weights` stores in a file's `lora_adapter_metadata`
// (flat JSON: `unet.lora_alpha`, `unet.r`, `unet.alpha_pattern`, `text_encoder.…`).
import Foundation
import TensorCore

struct LoRAMetadata {
    static let key = "lora_adapter_metadata"
    private var alphas: [LoRAComponent: Float] = [:]
    private var patterns: [LoRAComponent: [String: Float]] = [:]

    init(file: SafetensorsFile) throws {
        guard let text = file.metadata[Self.key] else { return }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw LoRAError(path: file.path, reason: "metadata \(Self.key) is not a JSON object")
        }
        for component in [LoRAComponent.unet, .textEncoder] {
            let prefix = component.rawValue + "."
            if let alpha = object[prefix + "lora_alpha"] {
                guard let number = alpha as? NSNumber else {
                    throw LoRAError(path: file.path, reason: "metadata \(Self.key) field \(prefix)lora_alpha is not a number")
                }
                alphas[component] = number.floatValue
            }
            if let pattern = object[prefix + "alpha_pattern"] as? [String: Any] {
                patterns[component] = pattern.compactMapValues { ($0 as? NSNumber)?.floatValue }
            }
        }
    }

    /// PEFT's rule: an `alpha_pattern` entry whose key ends the module path wins over `lora_alpha`.
    func alpha(component: LoRAComponent, module: String) -> Float? {
        if let pattern = patterns[component],
           let match = pattern.keys.sorted(by: { $0.count > $1.count }).first(where: { module == $0 || module.hasSuffix("." + $0) }) {
            return pattern[match]
        }
        return alphas[component]
    }
}
