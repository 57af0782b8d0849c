// Options shared by the commands that sample: generate, img2img, inpaint, gallery.
import ArgumentParser
import Pipelines
import Schedulers

struct SamplingOptions: ParsableArguments {
    @Option(help: "What to steer away from.")
    var negativePrompt = ""

    @Option(help: "Denoising steps of the full schedule (img2img runs strength × steps of them).")
    var steps = SamplingDefaults.steps

    @Option(help: "Classifier-free guidance scale (1 disables guidance).")
    var guidance = SamplingDefaults.guidance

    @Option(help: "Sampler (default: the model's own).")
    var scheduler: SamplerName?

    @Option(help: "Random seed; the same seed gives the same initial latents as torch.Generator(\"cpu\").manual_seed(seed).")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("LoRA file (diffusers/PEFT or kohya) merged into the model, at an optional scale (default 1); repeatable.", valueName: "file[:scale]"))
    var lora: [LoRASpec] = []

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        guard guidance >= 0, guidance.isFinite else { throw ValidationError("--guidance must be a non-negative number, got \(guidance)") }
    }

    func apply<Request: SamplingSettings>(to request: inout Request) {
        request.negativePrompt = negativePrompt
        request.steps = steps
        request.guidance = guidance
        request.scheduler = scheduler?.rawValue
        request.seed = seed
    }

    /// The settings as PNG text chunks, so an image says how it was made.
    var parameters: [(String, String)] {
        [("negative_prompt", negativePrompt), ("seed", "\(seed)"), ("steps", "\(steps)"), ("guidance", "\(guidance)"),
         ("scheduler", scheduler?.rawValue ?? "the model's own")] + (lora.isEmpty ? [] : [("lora", lora.map(\.description).joined(separator: ", "))])
    }
}

/// `--scheduler` takes the sampler names, listed in `--help` and checked before `run()`.
extension SamplerName: ExpressibleByArgument {}
