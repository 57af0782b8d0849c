// Options shared by the commands that sample: generate, img2img, inpaint, gallery (and, for
// the sampler alone, evaluate).
import ArgumentParser
import Pipelines
import Schedulers

/// How each image is sampled: steps, guidance and sampler.
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

struct SamplingOptions: ParsableArguments {
    @Option(help: "What to steer away from.")
    var negativePrompt = ""

    @OptionGroup var sampler: SamplerOptions

    @Option(help: "Random seed; the same seed gives the same initial latents as torch.Generator(\"cpu\").manual_seed(seed).")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("LoRA file (diffusers/PEFT or kohya) merged into the model, at an optional scale (default 1); repeatable.", valueName: "file[:scale]"))
    var lora: [LoRASpec] = []

    func apply<Request: SamplingSettings>(to request: inout Request) {
        request.negativePrompt = negativePrompt
        request.steps = sampler.steps
        request.guidance = sampler.guidance
        request.scheduler = sampler.scheduler?.rawValue
        request.seed = seed
    }

    /// The settings as PNG text chunks, so an image says how it was made.
    var parameters: [(String, String)] {
        [("negative_prompt", negativePrompt), ("seed", "\(seed)"), ("steps", "\(sampler.steps)"), ("guidance", "\(sampler.guidance)"),
         ("scheduler", sampler.scheduler?.rawValue ?? "the model's own")] + (lora.isEmpty ? [] : [("lora", lora.map(\.description).joined(separator: ", "))])
    }
}

/// `--scheduler` takes the sampler names, listed in `--help` and checked before `run()`.
extension SamplerName: ExpressibleByArgument {}
