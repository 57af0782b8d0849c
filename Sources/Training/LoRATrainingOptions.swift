// Options of LoRA training: the loop's options (a few-image recipe), rank, alpha, targets, captions.
import Foundation
import TensorCore

public struct LoRATrainingOptions {
    /// Which models get adapters.
    public enum Targets: String, CaseIterable, Sendable {
        case unet
        case unetAndText = "unet+text"
    }

    public var common = LoRATrainingOptions.recipe
    public var rank = 4
    /// nil: alpha = rank (a scale of 1, PEFT's and diffusers' default).
    public var alpha: Float?
    public var targets = Targets.unet
    /// One caption for every image (DreamBooth style); nil: the folder's captions.
    public var caption: String?
    public var captionDropout = 0.0
    /// Steps between sample grids (0: none; a grid is always written at the end).
    public var sampleEvery = 100
    public var sampleSteps = 10
    public init() {}

    /// diffusers' `train_dreambooth_lora.py` scale (a few images, small batches) with a learning rate
    /// for Diffuse's small models: at diffusers' 1e-4 the shipped model learned a new subject's colours
    /// in 400 steps but not its shape; at 1e-3 it learned both (scripts/lora-learns.sh). SD-size
    /// models want about 1e-4.
    public static var recipe: TrainingOptions { .recipe(steps: 400, batchSize: 4, learningRate: 1e-3, warmupSteps: 0) }

    public var effectiveAlpha: Float { alpha ?? Float(rank) }

    public func validate() throws {
        try common.validate()
        try require(!common.horizontalFlip, "TrainingOptions.horizontalFlip",
                    "is supported by VAE training only (LoRA training caches the VAE latents once)")
        try require(rank >= 1, "LoRATrainingOptions.rank", "must be at least 1, got \(rank)")
        try require(alpha.map { $0 > 0 && $0.isFinite } ?? true, "LoRATrainingOptions.alpha", "must be positive, got \(alpha ?? 0)")
        try require((0...1).contains(captionDropout), "LoRATrainingOptions.captionDropout", "must be in [0, 1], got \(captionDropout)")
        try require(sampleEvery >= 0, "LoRATrainingOptions.sampleEvery", "must be at least 0, got \(sampleEvery)")
        try require(sampleSteps >= 1, "LoRATrainingOptions.sampleSteps", "must be at least 1, got \(sampleSteps)")
    }
}
