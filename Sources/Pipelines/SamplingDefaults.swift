// The default sampling settings of every command and request, and the settings they share.

public enum SamplingDefaults {
    /// Denoising steps, chosen for the sampler Diffuse trains its models with (Euler on
    /// Karras sigmas): 10 steps matched 15 of DPM-Solver++ 2M Karras in models/emoji32's
    /// fidelity test (README, quality). A model with a DDIM or PNDM sampler wants more.
    public static let steps = 10
    /// Classifier-free guidance scale (diffusers' StableDiffusionPipeline default).
    public static let guidance: Float = 7.5
}

/// The settings every sampling request shares, so a caller can fill any of them alike.
public protocol SamplingSettings {
    var negativePrompt: String { get set }
    var steps: Int { get set }
    var guidance: Float { get set }
    /// A scheduler name (`ddim`, `euler-karras`, …) or nil for the model folder's own.
    var scheduler: String? { get set }
    var seed: UInt64 { get set }
}

extension GenerationRequest: SamplingSettings {}
extension ImageToImageRequest: SamplingSettings {}
extension InpaintRequest: SamplingSettings {}
