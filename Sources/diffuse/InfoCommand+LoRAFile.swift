// `diffuse info LORA.safetensors`: a LoRA file's format, rank, alpha, target layers and parameter counts.
import Foundation
import Models

extension SafetensorsFileReport {
    /// Layer names kohya's underscored paths end with (a dotted path's own last part is used otherwise).
    private static let kohyaLayers = ["to_out_0", "to_q", "to_k", "to_v", "q_proj", "k_proj", "v_proj", "out_proj",
                                      "proj_in", "proj_out", "ff_net_0_proj", "ff_net_2", "fc1", "fc2", "conv1", "conv2"]

    /// The layer a module path ends in: `to_q`, `to_out.0`, `out_proj`.
    static func loraLayer(_ module: String, kohya: Bool) -> String {
        if kohya {
            return kohyaLayers.first { module.hasSuffix("_" + $0) || module == $0 } ?? module
        }
        let parts = module.split(separator: ".")
        if let last = parts.last, Int(last) != nil, parts.count >= 2 { return parts.suffix(2).joined(separator: ".") }
        return parts.last.map(String.init) ?? module
    }

    /// Fills components (parameters per model) and details (format, rank, alpha, targets) from a LoRA file.
    mutating func describeLoRA(_ url: URL) throws {
        let lora = try LoRAFile(contentsOf: url)
        details["format"] = lora.format.rawValue
        details["rank"] = lora.ranks.sorted().map(String.init).joined(separator: ", ")
        details["alpha"] = lora.alphas.sorted().map { $0 == $0.rounded() ? "\(Int($0))" : "\($0)" }.joined(separator: ", ")
        details["lora_modules"] = "\(lora.adapters.count)"
        details["adapter_parameters"] = "\(lora.parameterCount)"
        for component in [LoRAComponent.unet, .textEncoder] {
            let adapters = lora.adapters.filter { $0.component == component }
            guard !adapters.isEmpty else { continue }
            components[component.rawValue] = adapters.reduce(0) { $0 + $1.parameterCount }
            var layers: [String: Int] = [:]
            for adapter in adapters { layers[Self.loraLayer(adapter.module, kohya: lora.format == .kohya), default: 0] += 1 }
            details["targets_\(component.rawValue)"] = layers.keys.sorted().map { "\($0) ×\(layers[$0] ?? 0)" }.joined(separator: ", ")
        }
    }
}
