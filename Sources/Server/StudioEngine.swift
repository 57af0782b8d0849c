// Runs jobs on the loaded model (on the queue's thread only): generation, img2img, inpaint,
// noise ladders, denoise-from-t and the Inside views, streaming each step's x̂₀.
import Foundation
import Imaging
import Pipelines
import TensorCore

final class StudioEngine: @unchecked Sendable {
    let model: StableDiffusion
    let store: OutputStore
    let configuration: ServerConfiguration
    /// Previews are shrunk to this side at most, to keep progress events small.
    let previewSide = 256

    init(model: StableDiffusion, store: OutputStore, configuration: ServerConfiguration) {
        self.model = model
        self.store = store
        self.configuration = configuration
    }

    func run(_ job: Job) throws -> JobOutput {
        let spec = job.spec
        switch spec.mode {
        case .txt2img: return try save(generate(spec, job: job), job: job)
        case .img2img, .inpaint: return try save(fromImage(spec, job: job), job: job)
        case .denoise: return try save(denoise(spec, job: job), job: job)
        case .noise: return try noiseLadder(spec)
        case .inside: return try inside(spec, job: job)
        }
    }

    /// The per-step callback: a cancelled job stops at its next step (the pipeline rethrows).
    private func onStep(_ job: Job) -> (DenoisingStep) throws -> Void {
        { [self] step in
            if job.isCancelled { throw JobCancelled() }
            var preview: String?
            if let original = step.predictedOriginal,
               let image = try? model.decode(latents: original.slice(axis: 0, start: 0, length: 1)).image() {
                preview = try? RequestImages.pngBase64(shrunk(image))
            }
            job.recordStep(step.index + 1, of: step.count, timestep: step.timestep, preview: preview)
        }
    }

    private func shrunk(_ image: Image) throws -> Image {
        let side = max(image.width, image.height)
        guard side > previewSide else { return image }
        return try image.resized(width: max(1, image.width * previewSide / side), height: max(1, image.height * previewSide / side))
    }

    private func generate(_ spec: JobSpec, job: Job) throws -> GenerationResult {
        try model.generate(request(spec), warn: { _ in }, onStep: onStep(job))
    }

    private func request(_ spec: JobSpec) -> GenerationRequest {
        var request = GenerationRequest(prompt: spec.prompt)
        apply(spec, to: &request)
        request.width = spec.width
        request.height = spec.height
        request.count = spec.count
        return request
    }

    private func apply<R: SamplingSettings>(_ spec: JobSpec, to request: inout R) {
        request.negativePrompt = spec.negativePrompt
        request.steps = spec.steps
        request.guidance = spec.guidance
        request.scheduler = spec.sampler
        request.seed = spec.seed
    }

    private func fromImage(_ spec: JobSpec, job: Job) throws -> GenerationResult {
        guard let image = spec.image else { throw APIError.badField("image", "is required") }
        let tensor = try Tensor(image: image)
        if spec.mode == .inpaint, let mask = spec.mask {
            var request = InpaintRequest(prompt: spec.prompt, image: tensor, mask: mask)
            apply(spec, to: &request)
            return try model.inpaint(request, onStep: onStep(job))
        }
        var request = ImageToImageRequest(prompt: spec.prompt, image: tensor)
        apply(spec, to: &request)
        request.strength = spec.strength
        request.count = spec.count
        return try model.imageToImage(request, onStep: onStep(job))
    }

    private func denoise(_ spec: JobSpec, job: Job) throws -> GenerationResult {
        guard let image = spec.image else { throw APIError.badField("image", "is required") }
        let noised = try model.noise(image: Tensor(image: image), timesteps: [spec.timestep], space: .latent, seed: spec.seed)
        guard let latents = noised.first?.latents else { throw APIError(.internalServerError, "the noised latents are missing") }
        return try model.denoise(latents: latents, from: spec.timestep, steps: spec.steps, prompt: spec.prompt,
                                 guidance: spec.guidance, seed: spec.seed, onStep: onStep(job))
    }

    /// Writes every image of a result (temp name, then rename) unless the job was cancelled.
    private func save(_ result: GenerationResult, job: Job) throws -> JobOutput {
        if job.isCancelled { throw JobCancelled() }
        let images = try result.images.images()
        let stamp = Self.stamp()
        var output = JobOutput()
        for (index, image) in images.enumerated() {
            let name = "\(stamp)-\(job.id)-\(index + 1).png"
            let parameters = job.spec.parameters(size: "\(image.width)x\(image.height)", model: configuration.modelName,
                                                 software: configuration.software)
            output.images.append(try store.write(image, name: name, parameters: parameters))
        }
        return output
    }

    static func stamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return formatter.string(from: Date())
    }

    /// x_t for t across the schedule, in latent space (encode, noise, decode) and pixel space.
    private func noiseLadder(_ spec: JobSpec) throws -> JobOutput {
        guard let image = spec.image else { throw APIError.badField("image", "is required") }
        let tensor = try Tensor(image: image)
        let last = try model.trainingSchedule().alphasCumprod.count - 1
        var ladder = Array(stride(from: 0, to: last, by: max(1, last / 40)))
        if ladder.last != last { ladder.append(last) }
        let latent = try model.noise(image: tensor, timesteps: ladder, space: .latent, seed: spec.seed)
        let pixel = try model.noise(image: tensor, timesteps: ladder, space: .pixel, seed: spec.seed)
        var frames: [[String: Any]] = []
        for (l, p) in zip(latent, pixel) {
            frames.append(["t": l.timestep, "signal_scale": Double(l.signalScale),
                           "latent": try RequestImages.pngBase64(l.image.image()),
                           "pixel": try RequestImages.pngBase64(p.image.image())])
        }
        return JobOutput(images: [], extra: ["frames": frames])
    }

    /// The image again (same seed, same pixels) with x̂₀ after every step and where each word looked.
    private func inside(_ spec: JobSpec, job: Job) throws -> JobOutput {
        let width = spec.width ?? model.nativeSize, height = spec.height ?? model.nativeSize
        let maps = CrossAttentionMaps(latentHeight: height / model.vaeScaleFactor, latentWidth: width / model.vaeScaleFactor,
                                      guided: spec.guidance > 1)
        var steps: [DenoisingStep] = []
        let report = onStep(job)
        var single = spec
        single.count = 1
        let result = try model.withAttentionMaps(maps) {
            try model.generate(request(single), warn: { _ in }) { step in
                steps.append(step)
                try report(step)
            }
        }
        if job.isCancelled { throw JobCancelled() }
        let image = try result.images.image()
        let tokens = model.promptTokens(spec.prompt)
        let words: [[String: Any]] = tokens.map { ["token": $0.text, "index": $0.index] }
        return JobOutput(images: [], extra: [
            "image": try RequestImages.pngBase64(Visualization.enlarged(image)),
            "trajectory": try RequestImages.pngBase64(model.trajectoryGrid(steps)),
            "attention": try RequestImages.pngBase64(maps.overlays(on: image, tokens: tokens)),
            "words": words,
        ])
    }
}
