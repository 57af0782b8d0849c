// `--steps`, `--guidance` and `--scheduler`: how each image is sampled (the sampling commands and evaluate).
import ArgumentParser
import Pipelines
import Schedulers

struct SamplerOptions: ParsableArguments {
    @Option(help: "Denoising steps of the full schedule (img2img runs strength × steps of them).")
    var steps = SamplingDefaults.steps

    @Option(help: "Classifier-free guidance scale (1 disables guidance).")
    var guidance = SamplingDefaults.guidance

    @Option(help: "Sampler (default: the model's own).")
    var scheduler: SamplerName?

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        guard guidance >= 0, guidance.isFinite else { throw ValidationError("--guidance must be a non-negative number, got \(guidance)") }
    }
}

/// `--scheduler` takes the sampler names, listed in `--help` and checked before `run()`.
extension SamplerName: ExpressibleByArgument {}
