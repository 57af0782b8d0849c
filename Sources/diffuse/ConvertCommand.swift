// `diffuse convert SRC DST`: diffusers folder → single LDM .safetensors file, and back.
import ArgumentParser
import Foundation
import Models
import Pipelines
import TensorCore

/// `--dtype`: the float type of written weights.
enum WeightDType: String, ExpressibleByArgument, CaseIterable {
    case fp16, bf16, fp32

    var safetensors: SafetensorsDType {
        switch self {
        case .fp16: return .f16
        case .bf16: return .bf16
        case .fp32: return .f32
        }
    }
}

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a diffusers folder to one single-file checkpoint (LDM layout, as SD WebUI and ComfyUI read) or back.",
        discussion: "A folder SRC is written as the file DST; a .safetensors SRC as the folder DST. Tensors that keep "
            + "their type keep their bytes, so a round trip is exact. Pickle checkpoints (.ckpt, .pt, .bin) are refused.")

    @Argument(help: "A diffusers pipeline folder, or a single-file .safetensors checkpoint.")
    var source: String

    @Argument(help: "The file (from a folder) or folder (from a file) to write.")
    var destination: String

    @Option(help: "Weight type written (\(WeightDType.allValueStrings.joined(separator: ", "))); default: as stored.")
    var dtype: WeightDType?

    @Option(help: "File → folder: a diffusers folder whose configs, tokenizer and scheduler to use instead of inferring them.")
    var config: String?

    @Option(help: "File → folder without --config: what the U-Net predicts (\(PredictionOption.allValueStrings.joined(separator: ", "))).")
    var prediction: PredictionOption?

    func run() throws {
        try reportingErrors {
            let sourceURL = URL(fileURLWithPath: source), destinationURL = URL(fileURLWithPath: destination)
            let summary: SingleFileConverter.Summary
            if ModelLocator.isFolder(sourceURL) {
                guard config == nil, prediction == nil else { throw CommandFailure(message: "--config and --prediction apply to converting a file to a folder") }
                summary = try SingleFileConverter.folderToFile(sourceURL, to: destinationURL, dtype: dtype?.safetensors)
            } else if ModelLocator.isFile(sourceURL) {
                summary = try fileToFolder(sourceURL, destinationURL)
            } else {
                throw CommandFailure(message: "\(source): no such file or folder")
            }
            print("\(destination): \(summary.tensorsWritten) tensors written"
                  + (summary.dropped.isEmpty ? "" : "; \(summary.dropped.count) LDM-only tensors left out (\(summary.dropped.prefix(4).joined(separator: ", "))\(summary.dropped.count > 4 ? ", …" : ""))"))
        }
    }

    private func fileToFolder(_ sourceURL: URL, _ destinationURL: URL) throws -> SingleFileConverter.Summary {
        let checkpoint = try SingleFileCheckpoint(url: sourceURL)
        if let config {
            let folderURL = URL(fileURLWithPath: config)
            let folder = try StableDiffusionPipelineFolder(directory: folderURL)
            var scheduler = try ConfigFile.read([String: ConfigValue].self, from: folder.schedulerConfigURL())
            if let prediction { scheduler["prediction_type"] = .string(prediction.predictionType.rawValue) }
            return try SingleFileConverter.fileToFolder(checkpoint, configs: SingleFileCheckpoint.readConfigs(folder: folderURL),
                                                        modelIndex: folder.modelIndex, tokenizer: folder.tokenizerDirectory(),
                                                        scheduler: scheduler, to: destinationURL, dtype: dtype?.safetensors)
        }
        let predictionType = prediction?.predictionType ?? StableDiffusion.defaultPredictionType(checkpoint.family)
        return try SingleFileConverter.fileToFolder(checkpoint, configs: checkpoint.inferConfigs(), modelIndex: .stableDiffusion(),
                                                    tokenizer: ModelSource.shippedTokenizer(checkpoint.family),
                                                    scheduler: StableDiffusion.singleFileSchedulerEntries(predictionType: predictionType),
                                                    to: destinationURL, dtype: dtype?.safetensors)
    }
}
