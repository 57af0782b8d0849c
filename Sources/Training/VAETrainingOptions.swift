// Options of VAE training: the loop's options (the VAE recipe's values), the model and its loss.
import Foundation
import Models

/// The per-pixel reconstruction loss of the VAE.
public enum ReconstructionLoss: String, CaseIterable, Codable {
    case l1, l2
}

public struct VAETrainingOptions {
    public var common = TrainingOptions.vaeRecipe
    public var config = VAETrainer.defaultConfig()
    public var reconstructionLoss = ReconstructionLoss.l1
    public var klWeight: Float = 1e-6
    /// A trained VAE folder to continue from: its config (in place of `config`) and weights, with a
    /// fresh schedule and optimiser.
    public var initialModelDirectory: URL?
    /// Share of the images held out to measure reconstruction PSNR.
    public var holdoutFraction = 0.05
    public init() {}

    public func validate() throws {
        try common.validate()
        try config.validate()  // the model's size included, before any data loads
        try require(klWeight >= 0 && klWeight.isFinite, "VAETrainingOptions.klWeight", "must be at least 0, got \(klWeight)")
        try require((0..<1).contains(holdoutFraction), "VAETrainingOptions.holdoutFraction",
                    "must be in [0, 1), got \(holdoutFraction)")
    }
}
