// One unit of work for the queue, checked and complete: every default already filled in.
import Foundation
import Imaging
import TensorCore

enum JobMode: String, Sendable {
    /// Text to image; img2img (SDEdit) and inpaint start from an image.
    case txt2img, img2img, inpaint
    /// A ladder of x_t over t for one image (nothing is written).
    case noise
    /// An image noised to t, then denoised back to 0 ("denoise from here").
    case denoise
    /// txt2img again with the trajectory and per-word attention maps recorded.
    case inside
}

struct JobSpec: @unchecked Sendable {
    var mode: JobMode
    var prompt = ""
    var negativePrompt = ""
    var seed: UInt64 = 0
    /// Whether the seed was picked at random (A1111's −1), for the `info` it reports.
    var randomSeed = false
    var steps: Int
    var guidance: Float
    /// A Diffuse sampler name, or nil for the model folder's own.
    var sampler: String?
    /// Pixel size; nil means the model's native size (txt2img) or the image's own.
    var width: Int?
    var height: Int?
    var count = 1
    /// img2img: how far to re-noise (0 keeps the image, 1 starts from noise).
    var strength = 0.75
    /// The starting image (img2img, inpaint, noise, denoise), already at the size to run.
    var image: Image?
    /// Inpaint: 1 repaints, 0 keeps, one value per pixel of `image`.
    var mask: [Float]?
    /// Denoise: the step to noise to and start from.
    var timestep = 500
    /// Which API asked, so the job's listing can say so.
    var origin = "studio"

    /// The text chunks every written PNG carries (the keys `diffuse generate` writes, plus the mode).
    func parameters(size: String, model: String, software: String) -> [(String, String)] {
        var list: [(String, String)] = [("prompt", prompt), ("negative_prompt", negativePrompt), ("seed", "\(seed)"),
                                        ("steps", "\(steps)"), ("guidance", "\(guidance)"),
                                        ("scheduler", sampler ?? "the model's own"), ("size", size), ("model", model),
                                        ("software", software), ("mode", mode.rawValue)]
        if mode == .img2img { list.append(("strength", "\(strength)")) }
        if mode == .denoise { list.append(("t", "\(timestep)")) }
        // bf16 moves the image slightly: a rerun needs it to give the same pixels (as the CLI records it).
        if ComputePrecision.mode != .float32 { list.append(("precision", ComputePrecision.mode.name)) }
        return list
    }

    /// The settings as JSON, for job listings and A1111's `parameters`.
    var summary: [String: Any] {
        var s: [String: Any] = ["mode": mode.rawValue, "prompt": prompt, "negative_prompt": negativePrompt,
                                "seed": seed, "steps": steps, "guidance": Double(guidance), "count": count,
                                "sampler": sampler ?? NSNull(), "origin": origin]
        if let width { s["width"] = width }
        if let height { s["height"] = height }
        if mode == .img2img { s["strength"] = strength }
        if mode == .denoise || mode == .noise { s["t"] = timestep }
        return s
    }
}
