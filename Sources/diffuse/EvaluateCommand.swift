// `diffuse evaluate --data DIR`: the quality figures of a model on its captioned dataset.
import ArgumentParser
import FileIO
import Foundation
import Pipelines
import Training

struct EvaluateCommand: ModelCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a model on a captioned dataset: VAE PSNR, prompt fidelity (top-1/top-5), diversity, time per image.")

    @OptionGroup var dataset: DatasetOption

    @Option(help: "Captions to generate for the fidelity test.")
    var prompts = 100

    @Option(help: "Seed that picks the captions.")
    var seed: UInt64 = 0

    @OptionGroup var sampler: SamplerOptions

    @Option(help: "A prompt for the diversity test (seeds 0-3); repeat for more. (default: red apple)")
    var diversityPrompt: [String] = []

    @Option(help: "A file of diversity-test prompts, one per line (scripts/emoji-novel-prompts.txt: 20 captions not in the emoji sets).")
    var diversityPrompts: String?

    @Option(help: "Write the diversity test as a PNG here: per prompt a row of its four images, on red where they are copies.")
    var diversitySheet: String?

    @Option(help: "Also write the figures, and each prompt's outcome, as JSON here.")
    var json: String?

    @Option(help: "Write the fidelity test as a PNG here: per prompt the generated image, the caption's own and the nearest.")
    var sheet: String?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        if prompts < 1 { throw ValidationError("--prompts must be at least 1, got \(prompts)") }
    }

    /// The prompts of the diversity test, read first: a bad file fails before the long measurements.
    func diversityTestPrompts() throws -> [String] {
        var prompts = diversityPrompt
        if let diversityPrompts {
            let text = try InputFile.readText(URL(fileURLWithPath: diversityPrompts), maxBytes: 1 << 20)
            prompts += text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if prompts.isEmpty { throw InputError(location: diversityPrompts, reason: "holds no prompt") }
        }
        return prompts.isEmpty ? ["red apple"] : prompts
    }

    func run(model: StableDiffusion, url: URL) throws {
        let diversityPrompts = try diversityTestPrompts()
        let folder = try dataset.load(resolution: model.nativeSize, quiet: modelOptions.quiet)
        let (steps, guidance, scheduler) = (sampler.steps, sampler.guidance, sampler.scheduler?.rawValue)
        var report = EvaluationReport()
        (report.psnrMean, report.psnrP10) = try Evaluation.vaePSNR(model: model, data: folder)
        report.psnrImages = folder.count
        print(String(format: "VAE reconstruction PSNR: mean %.2f dB, 10th percentile %.2f dB (%d images)",
                     report.psnrMean, report.psnrP10, folder.count))
        let progress = modelOptions.progress(total: prompts, label: "fidelity")
        let fidelity = try Evaluation.promptFidelity(model: model, data: folder, count: prompts, seed: seed, steps: steps,
                                                     guidance: guidance, scheduler: scheduler) {
            progress.update($0, of: $1)
        }
        (report.fidelityTop1, report.fidelityTop5, report.secondsPerImage) = (fidelity.top1, fidelity.top5,
                                                                             fidelity.secondsPerImage)
        report.prompts = fidelity.outcomes
        report.fidelityPrompts = prompts
        report.steps = steps
        report.guidance = guidance
        report.scheduler = scheduler
        print(String(format: "prompt fidelity over %d captions: top-1 %.2f, top-5 %.2f", prompts, fidelity.top1, fidelity.top5))
        print(String(format: "time per image (%d steps, guidance %g): %.3f s", steps, guidance, fidelity.secondsPerImage))
        let diversityProgress = modelOptions.progress(total: diversityPrompts.count * 4, label: "diversity")
        let diversity = try Evaluation.diversity(model: model, prompts: diversityPrompts, seeds: [0, 1, 2, 3], steps: steps,
                                                 guidance: guidance, scheduler: scheduler,
                                                 trainingCaptions: Set(folder.items.map(\.caption))) {
            diversityProgress.update($0, of: $1)
        }
        report.diversity = diversity.outcomes
        report.diversityMean = diversity.outcomes.map(\.meanPairwiseRMS).reduce(0, +) / Double(diversity.outcomes.count)
        report.diversityCopies = diversity.outcomes.filter(\.isCopies).count
        for outcome in diversity.outcomes {
            print(String(format: "  %.3f  %@%@", outcome.meanPairwiseRMS, outcome.prompt,
                         outcome.isTrainingCaption ? " (a training caption)" : ""))
        }
        print(String(format: "diversity over %d prompt%@ × seeds 0-3: mean pairwise RMS distance %.3f (in [-1, 1] units); %d below %.2f (copies)",
                     diversity.outcomes.count, diversity.outcomes.count == 1 ? "" : "s", report.diversityMean,
                     report.diversityCopies, DiversityOutcome.copyThreshold))
        if let diversitySheet {
            try Evaluation.diversitySheet(diversity.outcomes, images: diversity.images).writePNG(to: URL(fileURLWithPath: diversitySheet))
        }
        if let sheet { try Evaluation.fidelitySheet(fidelity).writePNG(to: URL(fileURLWithPath: sheet)) }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json), options: .atomic)
        }
    }
}
