// Applies LoRA files to a loaded pipeline: each adapter merged into its U-Net or text-encoder weight.
import Foundation
import Models
import TensorCore

extension StableDiffusion {
    /// Merges `file` at `scale` (1: as trained; 0.5: half strength) into the models' weights.
    /// Every adapter is checked against the models before any weight changes.
    public func applyLoRA(_ file: LoRAFile, scale: Float = 1) throws {
        let unetAdapters = file.adapters.filter { $0.component == .unet }
        let textAdapters = file.adapters.filter { $0.component == .textEncoder }
        // kohya files name U-Net layers the diffusers way (down_blocks_0_…) or, from A1111-era
        // tools, the original SD way (input_blocks_1_1_…); both are taken.
        let ldmNames = file.format == .kohya ? unet.ldmLoRANames() : [:]
        // Check both components first, so a bad text-encoder key leaves the U-Net untouched.
        try unet.checkLoRA(unetAdapters, format: file.format, path: file.path, aliases: ldmNames)
        try textEncoder.checkLoRA(textAdapters, format: file.format, path: file.path)
        try unet.mergeLoRA(unetAdapters, scale: scale, format: file.format, path: file.path, aliases: ldmNames)
        try textEncoder.mergeLoRA(textAdapters, scale: scale, format: file.format, path: file.path)
    }

    public func applyLoRA(contentsOf url: URL, scale: Float = 1) throws {
        try applyLoRA(LoRAFile(contentsOf: url), scale: scale)
    }
}
