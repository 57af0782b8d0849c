// What a .safetensors file holds, recognised from its keys and shapes alone.
import TensorCore

public enum CheckpointKind: Equatable, Sendable {
    /// A whole SD 1.x checkpoint (CLIP text encoder under cond_stage_model.transformer).
    case stableDiffusion1
    /// A whole SD 2.x checkpoint (OpenCLIP text encoder under cond_stage_model.model, fused q/k/v).
    case stableDiffusion2
    /// A VAE alone, in LDM (`encoder.down.0.block.0…`) or diffusers (`encoder.down_blocks…`) names.
    case vae(ldm: Bool)
    /// A LoRA: kohya (`lora_unet_…`, `lora_te_…`) or diffusers/PEFT (`lora_A`/`lora_B`) names.
    case lora(kohya: Bool)
    /// A text encoder alone (transformers' CLIPTextModel names).
    case textEncoder
    /// A diffusers U-Net alone.
    case unet
    case unknown

    public var name: String {
        switch self {
        case .stableDiffusion1: return "Stable Diffusion 1.x checkpoint (LDM layout)"
        case .stableDiffusion2: return "Stable Diffusion 2.x checkpoint (LDM layout)"
        case .vae(let ldm): return "VAE alone (\(ldm ? "LDM" : "diffusers") names)"
        case .lora(let kohya): return "LoRA (\(kohya ? "kohya" : "diffusers/PEFT") names)"
        case .textEncoder: return "CLIP text encoder alone (transformers names)"
        case .unet: return "U-Net alone (diffusers names)"
        case .unknown: return "unrecognised safetensors file"
        }
    }

    /// Recognises `names` (a file's tensor names).
    public static func classify(_ names: [String]) -> CheckpointKind {
        func any(_ test: (String) -> Bool) -> Bool { names.contains(where: test) }
        if any({ $0.contains("lora_up") || $0.contains("lora_down") || $0.contains("lora_A") || $0.contains("lora_B") }) {
            return .lora(kohya: any { $0.hasPrefix("lora_unet_") || $0.hasPrefix("lora_te") })
        }
        if any({ $0.hasPrefix("model.diffusion_model.") }) {
            if any({ $0.hasPrefix("cond_stage_model.model.") }) { return .stableDiffusion2 }
            if any({ $0.hasPrefix("cond_stage_model.transformer.") }) { return .stableDiffusion1 }
            return .unknown
        }
        if any({ $0.hasPrefix("encoder.down.") || $0.hasPrefix("first_stage_model.encoder.") }) { return .vae(ldm: true) }
        if any({ $0.hasPrefix("encoder.down_blocks.") }) { return .vae(ldm: false) }
        if any({ $0.hasPrefix("text_model.encoder.layers.") }) { return .textEncoder }
        if any({ $0.hasPrefix("down_blocks.") && $0.contains(".resnets.") }) { return .unet }
        return .unknown
    }
}
