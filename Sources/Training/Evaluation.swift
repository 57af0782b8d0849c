// Model quality on a captioned dataset: VAE reconstruction PSNR, prompt fidelity (is the
// nearest training image the caption's own?), diversity across seeds, and time per image.
import FileIO
import Foundation
import Imaging
import Pipelines
import TensorCore

public struct EvaluationReport: Codable {
    public var psnrMean = 0.0, psnrP10 = 0.0, psnrImages = 0
    public var fidelityTop1 = 0.0, fidelityTop5 = 0.0, fidelityPrompts = 0
    /// Per diversity prompt, how far apart its seeds' images are; their mean, and how many
    /// prompts gave copies (below `DiversityOutcome.copyThreshold`).
    public var diversity: [DiversityOutcome] = []
    public var diversityMean = 0.0, diversityCopies = 0
    public var secondsPerImage = 0.0
    public var steps = 0
    public var guidance: Float = 0
    /// The sampler, when not the model's own.
    public var scheduler: String?
    public var prompts: [PromptOutcome] = []
    public init() {}
}

/// One fidelity prompt: where the caption's own image ranks among the training images
/// nearest to what was generated (1 is a hit), and which image came nearest.
public struct PromptOutcome: Codable {
    public var caption: String
    public var ownRank: Int
    public var nearestCaption: String
}

/// One diversity prompt: the mean pairwise RMS distance (per pixel, in [-1, 1] units) between
/// its images from different seeds; near zero means the seeds give copies.
public struct DiversityOutcome: Codable {
    public var prompt: String
    public var meanPairwiseRMS: Double
    /// A training caption measures recall, not how a model fills in what it was never shown.
    public var isTrainingCaption: Bool
    /// Below this the seeds' images are copies of one image (about 6 of 255 levels apart).
    public static let copyThreshold = 0.05
    public var isCopies: Bool { meanPairwiseRMS < Self.copyThreshold }
}

/// What the fidelity test saw, for the report and its picture.
public struct PromptFidelity {
    public var top1 = 0.0, top5 = 0.0, secondsPerImage = 0.0
    public var outcomes: [PromptOutcome] = []
    /// Per prompt: the generated image, the caption's own image, the nearest training image.
    public var triples: [(generated: Image, own: Image, nearest: Image)] = []
}

public enum Evaluation {
    /// Reconstruction PSNR (8-bit RGB) of every image through the VAE's posterior mean.
    public static func vaePSNR(model: StableDiffusion, data: CaptionedImageFolder) throws -> (mean: Double, p10: Double) {
        var scores: [Double] = []
        for start in stride(from: 0, to: data.count, by: 64) {
            let indices = Array(start..<min(start + 64, data.count))
            let images = try data.batch(indices, flip: [])
            let decoded = try model.decode(latents: model.encodeMean(images: images))
            for (a, b) in zip(try images.images(), try decoded.images()) { scores.append(PSNR.rgb8(a, b)) }
        }
        let sorted = scores.sorted()
        return (scores.reduce(0, +) / Double(max(1, scores.count)), sorted.isEmpty ? 0 : sorted[sorted.count / 10])
    }

    /// For `count` captions drawn with `seed`, one image each (seed 0, the default settings):
    /// the share whose nearest training image (L2 on RGB at the data's resolution) is the
    /// caption's own, and the share where it is among the nearest five.
    public static func promptFidelity(model: StableDiffusion, data: CaptionedImageFolder, count: Int, seed: UInt64,
                                      steps: Int, guidance: Float, scheduler: String? = nil,
                                      progress: (Int, Int) -> Void = { _, _ in }) throws -> PromptFidelity {
        // A fidelity over no prompt would read as a score of 0.
        guard count >= 1 else { throw InputError(field: "prompts", reason: "must be at least 1, got \(count)") }
        let order = BatchSampler.permutation(count: data.count, seed: seed, epoch: 0).filter { !data.items[$0].caption.isEmpty }
        guard !order.isEmpty else {
            throw InputError(location: data.directory.path, reason: "no image has a caption, so prompt fidelity cannot be measured")
        }
        let chosen = Array(order.prefix(count))
        let side = data.resolution
        var result = PromptFidelity()
        var seconds = 0.0
        for (n, index) in chosen.enumerated() {
            var request = GenerationRequest(prompt: data.items[index].caption)
            request.steps = steps
            request.guidance = guidance
            request.scheduler = scheduler
            let start = Date()
            let generated = try model.generate(request).images.image()
            seconds += Date().timeIntervalSince(start)
            let atDataSize = generated.width == side ? generated : try generated.resized(width: side, height: side)
            let pixels = try Tensor(image: atDataSize).values
            let distances = data.items.map { squaredDistance(pixels, $0.pixels) }
            let nearest = distances.indices.min { distances[$0] < distances[$1] } ?? index
            // 1 + the number of images strictly nearer than the caption's own.
            let ownRank = 1 + distances.filter { $0 < distances[index] }.count
            result.outcomes.append(PromptOutcome(caption: data.items[index].caption, ownRank: ownRank,
                                                 nearestCaption: data.items[nearest].caption))
            result.triples.append((atDataSize, try Image(planarRGB: data.items[index].pixels, width: side, height: side),
                                   try Image(planarRGB: data.items[nearest].pixels, width: side, height: side)))
            progress(n + 1, chosen.count)
        }
        let total = Double(max(1, chosen.count))
        result.top1 = Double(result.outcomes.filter { $0.ownRank == 1 }.count) / total
        result.top5 = Double(result.outcomes.filter { $0.ownRank <= 5 }.count) / total
        result.secondsPerImage = seconds / total
        return result
    }

    /// The fidelity test as a picture: per prompt, the generated image, the caption's own
    /// image and the nearest training image (at the data's resolution), on green where the
    /// own image is nearest, amber where it is among the nearest five, red otherwise.
    public static func fidelitySheet(_ fidelity: PromptFidelity, columns: Int = 10) throws -> Image {
        let cells = try zip(fidelity.triples, fidelity.outcomes).map { triple, outcome -> Image in
            let background: [UInt8] = outcome.ownRank == 1 ? [70, 170, 90] : outcome.ownRank <= 5 ? [230, 170, 40] : [210, 60, 50]
            return try Image.grid([triple.generated, triple.own, triple.nearest], columns: 3, padding: 2, background: background)
        }
        return try Image.grid(cells, columns: columns, padding: 4)
    }

    /// Each prompt drawn with each seed: how far apart one prompt's images are, and the images
    /// (per prompt, one per seed) for the picture.
    public static func diversity(model: StableDiffusion, prompts: [String], seeds: [UInt64], steps: Int, guidance: Float,
                                 scheduler: String? = nil, trainingCaptions: Set<String> = [],
                                 progress: (Int, Int) -> Void = { _, _ in }) throws -> (outcomes: [DiversityOutcome], images: [[Image]]) {
        guard !prompts.isEmpty, seeds.count >= 2 else {
            throw InputError(field: "diversity", reason: "needs at least one prompt and two seeds, got \(prompts.count) and \(seeds.count)")
        }
        var outcomes: [DiversityOutcome] = [], images: [[Image]] = []
        for (p, prompt) in prompts.enumerated() {
            let pixels = try seeds.enumerated().map { s, seed -> Tensor in
                var request = GenerationRequest(prompt: prompt)
                request.seed = seed
                request.steps = steps
                request.guidance = guidance
                request.scheduler = scheduler
                defer { progress(p * seeds.count + s + 1, prompts.count * seeds.count) }
                return try model.generate(request).images  // [1, 3, H, W] in [-1, 1]
            }
            let values = pixels.map(\.values)
            var total = 0.0, pairs = 0
            for i in values.indices { for j in values.indices where j > i {
                total += (squaredDistance(values[i], values[j]) / Double(values[i].count)).squareRoot()
                pairs += 1
            } }
            outcomes.append(DiversityOutcome(prompt: prompt, meanPairwiseRMS: total / Double(pairs),
                                             isTrainingCaption: trainingCaptions.contains(prompt)))
            images.append(try pixels.map { try $0.image() })
        }
        return (outcomes, images)
    }

    /// The diversity test as a picture: per prompt a row of its seeds' images, on red where
    /// they are copies, on grey otherwise; rows in two columns past ten prompts.
    public static func diversitySheet(_ outcomes: [DiversityOutcome], images: [[Image]]) throws -> Image {
        let rows = try zip(outcomes, images).map { outcome, row in
            try Image.grid(row, columns: row.count, padding: 2, background: outcome.isCopies ? [210, 60, 50] : [200, 200, 200])
        }
        return try Image.grid(rows, columns: rows.count > 10 ? 2 : 1, padding: 2)
    }

    static func squaredDistance(_ a: [Float], _ b: [Float]) -> Double {
        var sum: Float = 0
        for i in 0..<min(a.count, b.count) { let d = a[i] - b[i]; sum += d * d }
        return Double(sum)
    }
}
