// Options of diffusion training: the loop's options (the diffusion recipe's values), the
// models, the noise-prediction loss, oversampling and sample grids.
import Foundation
import Models
import Schedulers
import TensorCore

public struct DiffusionTrainingOptions {
    public var common = TrainingOptions.diffusionRecipe
    public var unetConfig = DiffusionTrainer.defaultUNetConfig()
    public var textConfig = DiffusionTrainer.defaultTextConfig()
    /// What the U-Net learns to predict: ε or v (x₀-prediction is not trained here).
    public var predictionType = PredictionType.epsilon
    /// Min-SNR-γ loss weighting (Hang et al. 2023); nil for plain MSE.
    public var minSNRGamma: Float? = 5
    /// Share of captions replaced by "" so the model also learns the unconditional prediction.
    public var captionDropout = 0.1
    /// Share of (kept) captions cut to a random non-empty subset of their words. A caption
    /// then fits several images ("apple" fits the red and the green one), so the model learns
    /// to let the noise choose where the words leave room: new combinations of the words
    /// vary across seeds instead of repeating the nearest training image.
    public var partialCaptions = 0.0
    public var emaDecay: Float = 0.999
    /// Keep the text encoder fixed (given with `textEncoderDirectory`).
    public var textEncoderDirectory: URL?
    /// Start from this pipeline folder's U-Net and text encoder (weights and configs)
    /// instead of fresh ones: continued training with a new schedule.
    public var initialModelDirectory: URL?
    /// Images (file names in the data folder) that appear `oversampleFactor` times per epoch
    /// instead of once: rare kinds of image get more training without duplicating files.
    public var oversampledFiles: Set<String> = []
    public var oversampleFactor = 1
    /// Steps between sample grids (0: none); 600 as in the recipe of models/emoji32.
    public var sampleEvery = 600
    public var samplePrompts: [String] = []
    public var sampleSteps = 20
    public var saveDType: SafetensorsDType = .f32
    public init() {}

    public func validate() throws {
        try common.validate()
        // Latents are encoded once, unflipped; flipping them would need a second cache.
        try require(!common.horizontalFlip, "TrainingOptions.horizontalFlip",
                    "is supported by VAE training only (diffusion training caches the VAE latents once)")
        try require(predictionType != .sample, "DiffusionTrainingOptions.predictionType",
                    "must be epsilon or v_prediction, got sample")
        try require(minSNRGamma.map { $0 > 0 && $0.isFinite } ?? true, "DiffusionTrainingOptions.minSNRGamma",
                    "must be positive (or nil for none), got \(minSNRGamma ?? 0)")
        try require((0...1).contains(captionDropout), "DiffusionTrainingOptions.captionDropout",
                    "must be in [0, 1], got \(captionDropout)")
        try require((0...1).contains(partialCaptions), "DiffusionTrainingOptions.partialCaptions",
                    "must be in [0, 1], got \(partialCaptions)")
        try require(emaDecay >= 0 && emaDecay < 1, "DiffusionTrainingOptions.emaDecay", "must be in [0, 1), got \(emaDecay)")
        try require(oversampleFactor >= 1, "DiffusionTrainingOptions.oversampleFactor", "must be at least 1, got \(oversampleFactor)")
        try require(sampleEvery >= 0, "DiffusionTrainingOptions.sampleEvery", "must be at least 0, got \(sampleEvery)")
        try require(sampleSteps >= 1, "DiffusionTrainingOptions.sampleSteps", "must be at least 1, got \(sampleSteps)")
    }
}
