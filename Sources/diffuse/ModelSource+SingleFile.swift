// `--model FILE.safetensors`: loads a single-file checkpoint with --config and --prediction.
import ArgumentParser
import Foundation
import Models
import Pipelines
import Schedulers

/// `--prediction`: what the U-Net predicts (for training, or for a single file that cannot say).
/// `v_prediction`, diffusers' own name, is taken for `v` too.
enum PredictionOption: String, ExpressibleByArgument, CaseIterable {
    case epsilon, v

    init?(argument: String) {
        self.init(rawValue: argument == PredictionType.vPrediction.rawValue ? "v" : argument)
    }

    var predictionType: PredictionType { self == .v ? .vPrediction : .epsilon }
}

extension ModelSource {
    /// The tokenizer shipped with Diffuse for a family: SD 1.x pads with <|endoftext|>, SD 2.x with "!".
    static func shippedTokenizer(_ family: SingleFileCheckpoint.Family) throws -> URL {
        try ModelLocator.resolveResource(family == .sd1 ? "models/clip-tokenizer" : "models/clip-tokenizer-sd2")
    }

    func loadSingleFile(_ url: URL) throws -> StableDiffusion {
        let model: StableDiffusion
        do {
            model = try StableDiffusion.load(singleFile: url, config: config.map { URL(fileURLWithPath: $0) },
                                             predictionType: prediction?.predictionType, defaultTokenizer: Self.shippedTokenizer)
        } catch let error as CommandFailure {
            throw error
        } catch let error as SingleFileError {
            throw CommandFailure(message: "\(error)")
        } catch {
            throw CommandFailure(message: "cannot load model \(url.path): \(error)")
        }
        return model
    }
}
