// The default sampling settings of every command and request, in one place.

public enum SamplingDefaults {
    /// Denoising steps, chosen for the sampler Diffuse trains its models with (Euler on
    /// Karras sigmas): 10 steps matched 15 of DPM-Solver++ 2M Karras in models/emoji's
    /// fidelity test (README, quality). A model with a DDIM or PNDM sampler wants more.
    public static let steps = 10
    /// Classifier-free guidance scale (diffusers' StableDiffusionPipeline default).
    public static let guidance: Float = 7.5
}
