// The default sampling settings of every command and request, in one place.

public enum SamplingDefaults {
    /// Denoising steps. DPM-Solver++ 2M, the shipped model's sampler, has converged by then:
    /// more steps change no fidelity figure (see the README's quality table).
    public static let steps = 15
    /// Classifier-free guidance scale (diffusers' StableDiffusionPipeline default).
    public static let guidance: Float = 7.5
}
