// Options shared by the commands that sample: generate, img2img, inpaint, gallery.
import ArgumentParser
import Pipelines
import TensorCore

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
            // bf16 moves the image slightly: a rerun needs it to give the same pixels.
            + (ComputePrecision.mode == .float32 ? [] : [("precision", ComputePrecision.mode.name)])
    }
}
