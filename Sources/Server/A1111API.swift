// AUTOMATIC1111's web UI API: /sdapi/v1/txt2img, img2img, progress, interrupt and samplers.
import Foundation
import Hummingbird

struct A1111API: Sendable {
    let reader: RequestReader
    let queue: JobQueue

    func txt2img(_ fields: JSONFields) async throws -> Response {
        let spec = try reader.sampling(fields, mode: .txt2img, names: .a1111, promptRequired: false)
        return try await run(spec, fields: fields)
    }

    func img2img(_ fields: JSONFields) async throws -> Response {
        var spec = try reader.sampling(fields, mode: .img2img, names: .a1111, promptRequired: false)
        if let strength = try fields.double("denoising_strength", in: 0...1) { spec.strength = strength }
        guard let images = try fields.strings("init_images"), let first = images.first else {
            throw APIError.badField("init_images", "needs one base64 image")
        }
        spec.image = try reader.startImage(first, field: "init_images[0]", spec: &spec)
        if let mask = try fields.string("mask", maxLength: reader.limits.maxBodyBytes), !mask.isEmpty {
            let invert = try fields.int("inpainting_mask_invert", in: 0...1) == 1
            spec.mode = .inpaint
            try reader.readMask(mask, field: "mask", invert: invert, spec: &spec)
        }
        return try await run(spec, fields: fields)
    }

    /// n_iter batches of batch_size, each batch from one generator seeded seed + iteration × batch_size.
    private func run(_ spec: JobSpec, fields: JSONFields) async throws -> Response {
        let iterations = try fields.int("n_iter", in: 1...reader.limits.maxCount) ?? 1
        guard iterations * spec.count <= reader.limits.maxCount else {
            throw APIError.badField("n_iter", "batch_size × n_iter must be at most \(reader.limits.maxCount)")
        }
        var specs: [JobSpec] = []
        for iteration in 0..<iterations {
            var batch = spec
            batch.origin = "a1111"
            batch.seed = spec.seed &+ UInt64(iteration * spec.count)
            specs.append(batch)
        }
        var jobs: [Job] = []
        do {
            for batch in specs { jobs.append(try queue.submit(batch)) }
        } catch {
            for job in jobs { _ = queue.cancel(job.id) }
            throw error
        }
        for job in jobs { await job.waitUntilFinished() }
        if let failed = jobs.first(where: { $0.state == .failed }), let error = failed.error { throw error }
        var images: [String] = [], seeds: [UInt64] = [], infotexts: [String] = []
        for job in jobs {
            for image in job.output?.images ?? [] {
                images.append(Data(image.png).base64EncodedString())
                seeds.append(job.spec.seed)
                infotexts.append(infotext(job.spec, width: image.width, height: image.height))
            }
        }
        let width = jobs.first?.output?.images.first?.width ?? spec.width ?? reader.facts.nativeSize
        let height = jobs.first?.output?.images.first?.height ?? spec.height ?? reader.facts.nativeSize
        let sampler = SamplerNames.a1111Name(for: spec.sampler)
        var parameters = fields.values
        parameters["init_images"] = nil
        parameters["mask"] = nil
        let resolved: [String: Any] = ["prompt": spec.prompt, "negative_prompt": spec.negativePrompt, "seed": spec.seed,
                                       "steps": spec.steps, "cfg_scale": Double(spec.guidance), "sampler_name": sampler,
                                       "width": width, "height": height, "batch_size": spec.count, "n_iter": iterations]
        parameters.merge(resolved) { _, new in new }
        if spec.mode != .txt2img { parameters["denoising_strength"] = spec.strength }
        let info: [String: Any] = [
            "prompt": spec.prompt, "all_prompts": Array(repeating: spec.prompt, count: images.count),
            "negative_prompt": spec.negativePrompt, "all_negative_prompts": Array(repeating: spec.negativePrompt, count: images.count),
            "seed": spec.seed, "all_seeds": seeds, "subseed": -1, "all_subseeds": Array(repeating: -1, count: images.count),
            "width": width, "height": height, "sampler_name": sampler, "cfg_scale": Double(spec.guidance),
            "steps": spec.steps, "batch_size": spec.count, "denoising_strength": spec.mode == .txt2img ? NSNull() : spec.strength,
            "sd_model_name": reader.facts.name, "infotexts": infotexts, "interrupted": jobs.contains { $0.state == .cancelled },
            "files": jobs.flatMap { $0.output?.images.map(\.name) ?? [] },
        ]
        let infoText = (try? JSONSerialization.data(withJSONObject: info, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return JSONResponse.make(["images": images, "parameters": parameters, "info": infoText])
    }

    /// A1111's one-line summary of an image's settings.
    private func infotext(_ spec: JobSpec, width: Int, height: Int) -> String {
        var text = spec.prompt
        if !spec.negativePrompt.isEmpty { text += "\nNegative prompt: \(spec.negativePrompt)" }
        text += "\nSteps: \(spec.steps), Sampler: \(SamplerNames.a1111Name(for: spec.sampler)), CFG scale: \(spec.guidance), "
            + "Seed: \(spec.seed), Size: \(width)x\(height), Model: \(reader.facts.name)"
        if spec.mode != .txt2img { text += ", Denoising strength: \(spec.strength)" }
        return text
    }

    /// The running job's progress (A1111's shape); 0 and an empty state when idle.
    func progress(skipCurrentImage: Bool) -> Response {
        let current = queue.current
        let counts = queue.counts
        let (step, steps) = current?.progress ?? (0, 0)
        let fraction = steps > 0 ? Double(step) / Double(steps) : 0
        var eta = 0.0
        if let started = current?.startedAt, step > 0 {
            let elapsed = Date().timeIntervalSince(started)
            eta = elapsed / fraction - elapsed
        }
        let state: [String: Any] = ["skipped": false, "interrupted": current?.isCancelled ?? false,
                                    "job": current.map { "job(\($0.id))" } ?? "", "job_count": counts.waiting + counts.running,
                                    "job_timestamp": StudioEngine.stamp(), "job_no": counts.completed,
                                    "sampling_step": step, "sampling_steps": steps]
        let image: Any = skipCurrentImage ? NSNull() : (current?.latestPreview ?? NSNull())
        return JSONResponse.make(["progress": fraction, "eta_relative": eta, "state": state, "current_image": image,
                                  "textinfo": current == nil ? NSNull() : "step \(step)/\(steps)" as Any])
    }

    /// Cancels the running job, as A1111's Interrupt button does.
    func interrupt() -> Response {
        if let current = queue.current { _ = queue.cancel(current.id) }
        return JSONResponse.make([String: Any]())
    }

    var samplers: Response {
        let list: [[String: Any]] = SamplerNames.table.filter { reader.facts.samplers.contains($0.diffuse) }.map {
            ["name": $0.a1111, "aliases": [$0.diffuse], "options": [String: String]()]
        }
        return JSONResponse.make(list)
    }
}
