// bf16 inference: the pipeline's weights stored in bf16 once, at load.
import Models
import NN
import TensorCore

extension StableDiffusion {
    /// Stores the text encoder's, U-Net's and VAE's linear and convolution weights in bf16 and
    /// returns the bytes this frees (about half the model). For `--precision bf16` on a CPU that
    /// runs it natively, whose products round the weights to bf16 anyway: the denoising loop then
    /// reads them as they are instead of converting them every step. LoRAs still merge (in float32,
    /// rounded once); the model can no longer be trained or saved at full precision.
    @discardableResult
    public func storeWeightsInBFloat16() -> Int {
        textEncoder.storeWeightsInBFloat16() + unet.storeWeightsInBFloat16() + vae.storeWeightsInBFloat16()
    }
}
