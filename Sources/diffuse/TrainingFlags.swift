// The training library's option fields as this tool's flags, for error messages, and its
// enumerated options as argument values (listed by --help, checked before training starts).
import ArgumentParser
import Foundation
import Training

extension ReconstructionLoss: ExpressibleByArgument {}

enum TrainingFlags {
    /// Library field → flag.
    static let names: [String: String] = [
        "TrainingOptions.steps": "--steps",
        "TrainingOptions.batchSize": "--batch-size",
        "TrainingOptions.resolution": "--resolution",
        "TrainingOptions.seed": "--seed",
        "TrainingOptions.learningRate": "--lr",
        "TrainingOptions.warmupSteps": "--warmup",
        "TrainingOptions.gradientAccumulation": "--gradient-accumulation",
        "TrainingOptions.checkpointEvery": "--checkpoint-every",
        "TrainingOptions.stopAfter": "--stop-after",
        "TrainingOptions.horizontalFlip": "--flip",
        "VAETrainingOptions.reconstructionLoss": "--loss",
        "VAETrainingOptions.klWeight": "--kl-weight",
        "DiffusionTrainingOptions.predictionType": "--prediction",
        "DiffusionTrainingOptions.minSNRGamma": "--min-snr-gamma",
        "DiffusionTrainingOptions.captionDropout": "--caption-dropout",
        "DiffusionTrainingOptions.partialCaptions": "--partial-captions",
        "DiffusionTrainingOptions.emaDecay": "--ema-decay",
        "DiffusionTrainingOptions.oversampledFiles": "--oversample",
        "DiffusionTrainingOptions.oversampleFactor": "--oversample-factor",
        "DiffusionTrainingOptions.sampleEvery": "--sample-every",
        "DiffusionTrainer.trainsTextEncoder": "--text-encoder",
        "LoRATrainingOptions.rank": "--rank",
        "LoRATrainingOptions.alpha": "--alpha",
        "LoRATrainingOptions.targets": "--targets",
        "LoRATrainingOptions.caption": "--caption",
        "LoRATrainingOptions.sampleEvery": "--sample-every",
    ]

    /// The error's text with each field it names spelled as its flag.
    static func message(_ error: TrainingError) -> String {
        var text = error.description
        for field in error.fields.sorted(by: { $0.count > $1.count }) {
            if let flag = names[field] { text = text.replacingOccurrences(of: field, with: flag) }
        }
        return text
    }

    /// Runs `body`, turning training errors into messages in terms of flags.
    static func speakingFlags(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as TrainingError {
            throw CommandFailure(message: message(error))
        }
    }
}

/// `reportingErrors` for the training commands: training errors name flags, not fields.
func reportingTrainingErrors(_ body: () throws -> Void) throws {
    try reportingErrors { try TrainingFlags.speakingFlags(body) }
}
