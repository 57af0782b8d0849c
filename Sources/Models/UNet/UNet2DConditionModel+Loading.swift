// UNet2DConditionModel as a diffusers component folder (config.json + diffusion_pytorch_model.safetensors).

extension UNet2DConditionModel: ComponentModel {
    public static let className = "UNet2DConditionModel"
}
