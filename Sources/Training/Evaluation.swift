// Model quality on a captioned dataset: VAE reconstruction PSNR, prompt fidelity (is the
// nearest training image the caption's own?), diversity across seeds, and time per image.
import Foundation
import Imaging
import Pipelines
import TensorCore

public struct EvaluationReport: Codable {
    public var psnrMean = 0.0, psnrP10 = 0.0, psnrImages = 0
    public var fidelityTop1 = 0.0, fidelityTop5 = 0.0, fidelityPrompts = 0
    public var diversityMeanL2 = 0.0
    public var secondsPerImage = 0.0
    public var steps = 0
    public var guidance: Float = 0
    public init() {}
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
                                      steps: Int, guidance: Float, progress: (Int, Int) -> Void = { _, _ in }) throws
        -> (top1: Double, top5: Double, secondsPerImage: Double) {
        let order = BatchSampler.permutation(count: data.count, seed: seed, epoch: 0).filter { !data.items[$0].caption.isEmpty }
        let chosen = Array(order.prefix(count))
        var top1 = 0, top5 = 0
        var seconds = 0.0
        for (n, index) in chosen.enumerated() {
            var request = GenerationRequest(prompt: data.items[index].caption)
            request.steps = steps
            request.guidance = guidance
            let start = Date()
            let generated = try model.generate(request).images.image()
            seconds += Date().timeIntervalSince(start)
            let pixels = try Tensor(image: generated.width == data.resolution ? generated
                                    : generated.resized(width: data.resolution, height: data.resolution)).values
            let ranked = data.items.indices.map { ($0, squaredDistance(pixels, data.items[$0].pixels)) }.sorted { $0.1 < $1.1 }
            if ranked.first?.0 == index { top1 += 1 }
            if ranked.prefix(5).contains(where: { $0.0 == index }) { top5 += 1 }
            progress(n + 1, chosen.count)
        }
        let total = Double(max(1, chosen.count))
        return (Double(top1) / total, Double(top5) / total, seconds / total)
    }

    /// Mean pairwise L2 distance (per pixel, in [-1, 1] units) between images of one prompt
    /// drawn with different seeds: near zero means the seeds give copies.
    public static func diversity(model: StableDiffusion, prompt: String, seeds: [UInt64], steps: Int, guidance: Float) throws -> Double {
        let images = try seeds.map { seed -> [Float] in
            var request = GenerationRequest(prompt: prompt)
            request.seed = seed
            request.steps = steps
            request.guidance = guidance
            return try model.generate(request).images.values
        }
        var total = 0.0, pairs = 0
        for i in images.indices { for j in images.indices where j > i {
            total += (squaredDistance(images[i], images[j]) / Double(images[i].count)).squareRoot()
            pairs += 1
        } }
        return total / Double(max(1, pairs))
    }

    static func squaredDistance(_ a: [Float], _ b: [Float]) -> Double {
        var sum: Float = 0
        for i in 0..<min(a.count, b.count) { let d = a[i] - b[i]; sum += d * d }
        return Double(sum)
    }
}
