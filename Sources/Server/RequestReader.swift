// Turns a request's JSON fields into a checked JobSpec; each API names its own fields.
import Foundation
import Imaging

struct RequestReader: Sendable {
    let facts: ModelFacts
    let limits: ServerLimits

    /// The field names an API uses for the shared settings.
    struct Names {
        var negativePrompt = "negative_prompt"
        var guidance = "guidance"
        var sampler = ["sampler"]
        var count = "count"
        var strength = "strength"
        static let studio = Names()
        static let a1111 = Names(guidance: "cfg_scale", sampler: ["sampler_name", "sampler_index"], count: "batch_size",
                                 strength: "denoising_strength")
    }

    /// The settings every mode shares; absent fields take the model's defaults, as `diffuse generate` does.
    func sampling(_ fields: JSONFields, mode: JobMode, names: Names, promptRequired: Bool) throws -> JobSpec {
        let prompt = try fields.string("prompt") ?? ""
        if promptRequired && prompt.trimmingCharacters(in: .whitespaces).isEmpty {
            throw APIError.badField("prompt", "is required")
        }
        var spec = JobSpec(mode: mode, steps: facts.defaultSteps, guidance: facts.defaultGuidance)
        spec.prompt = prompt
        spec.negativePrompt = try fields.string(names.negativePrompt) ?? ""
        if let steps = try fields.int("steps", in: 1...limits.maxSteps) { spec.steps = steps }
        if let guidance = try fields.double(names.guidance, in: 0...100) { spec.guidance = Float(guidance) }
        for key in names.sampler {
            if let name = try fields.string(key, maxLength: 64), !name.isEmpty {
                spec.sampler = try facts.sampler(name, field: key)
                break
            }
        }
        // Absent: 0, as `diffuse generate`; −1: a random seed, as A1111.
        if fields.raw("seed") == nil {
            spec.seed = 0
        } else if let seed = try fields.seed("seed") {
            spec.seed = seed
        } else {
            spec.seed = UInt64.random(in: 0..<(1 << 32))
            spec.randomSeed = true
        }
        if let count = try fields.int(names.count, in: 1...limits.maxCount) { spec.count = count }
        let width = try fields.int("width", in: 1...limits.maxSide * 8)
        let height = try fields.int("height", in: 1...limits.maxSide * 8)
        if width != nil || height != nil {
            let (w, h) = (width ?? height ?? facts.nativeSize, height ?? width ?? facts.nativeSize)
            try facts.checkSize(width: w, height: h, limits: limits, field: width == nil ? "height" : "width")
            (spec.width, spec.height) = (w, h)
        }
        return spec
    }

    /// The starting image for img2img, inpaint, noise and denoise: the requested size, else its
    /// own when the model can take it, else the model's native size.
    func startImage(_ base64: String?, field: String, spec: inout JobSpec) throws -> Image {
        guard let base64, !base64.isEmpty else { throw APIError.badField(field, "is required") }
        let image = try RequestImages.decode(base64, field: field, limits: limits)
        var (width, height) = (spec.width ?? image.width, spec.height ?? image.height)
        if spec.width == nil, (try? facts.checkSize(width: width, height: height, limits: limits, field: field)) == nil {
            (width, height) = (facts.nativeSize, facts.nativeSize)
        }
        let sized = try RequestImages.sized(image, width: width, height: height, field: field)
        (spec.width, spec.height) = (width, height)
        return sized
    }

    /// The page's own job request: `mode` picks the flow.
    func studioJob(_ fields: JSONFields) throws -> JobSpec {
        let modeName = try fields.string("mode") ?? "txt2img"
        guard let mode = JobMode(rawValue: modeName) else {
            throw APIError.badField("mode", "must be one of txt2img, img2img, inpaint, noise, denoise, inside; got '\(modeName)'")
        }
        let needsPrompt = mode == .txt2img || mode == .inside || mode == .img2img || mode == .inpaint
        var spec = try sampling(fields, mode: mode, names: .studio, promptRequired: needsPrompt)
        switch mode {
        case .txt2img, .inside:
            break
        case .img2img, .inpaint:
            if let strength = try fields.double("strength", in: 0...1) { spec.strength = strength }
            spec.image = try startImage(try fields.string("image", maxLength: limits.maxBodyBytes), field: "image", spec: &spec)
            if let mask = try fields.string("mask", maxLength: limits.maxBodyBytes), !mask.isEmpty {
                spec.mode = .inpaint
                try readMask(mask, field: "mask", spec: &spec)
            } else if mode == .inpaint {
                throw APIError.badField("mask", "is required for inpaint")
            }
        case .noise, .denoise:
            spec.image = try startImage(try fields.string("image", maxLength: limits.maxBodyBytes), field: "image", spec: &spec)
            if let t = try fields.int("t", in: 0...999) { spec.timestep = t }
            spec.count = 1
        }
        return spec
    }

    func readMask(_ base64: String, field: String, invert: Bool = false, spec: inout JobSpec) throws {
        guard let image = spec.image else { throw APIError.badField("image", "is required with a mask") }
        let maskImage = try RequestImages.decode(base64, field: field, limits: limits)
        var mask = try RequestImages.mask(maskImage, width: image.width, height: image.height, field: field)
        if invert { mask = mask.map { 1 - $0 } }
        guard mask.contains(where: { $0 > 0 }) else { throw APIError.badField(field, "is empty: paint (white) where to repaint") }
        spec.mask = mask
        spec.count = 1
    }
}
