// AutoencoderKL as a diffusers component folder (config.json + diffusion_pytorch_model.safetensors).

extension AutoencoderKL: ComponentModel {
    public static let className = "AutoencoderKL"
}
