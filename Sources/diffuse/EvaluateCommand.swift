// `diffuse evaluate --data DIR`: the quality figures of a model on its captioned dataset.
import ArgumentParser
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

    @Option(help: "Prompt for the diversity test (four seeds).")
    var diversityPrompt = "red apple"

    @Option(help: "Also write the figures, and each prompt's outcome, as JSON here.")
    var json: String?

    @Option(help: "Write the fidelity test as a PNG here: per prompt the generated image, the caption's own and the nearest.")
    var sheet: String?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        if prompts < 1 { throw ValidationError("--prompts must be at least 1, got \(prompts)") }
    }

    func run(model: StableDiffusion, url: URL) throws {
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
        report.diversityMeanL2 = try Evaluation.diversity(model: model, prompt: diversityPrompt, seeds: [0, 1, 2, 3], steps: steps,
                                                          guidance: guidance, scheduler: scheduler)
        print(String(format: "diversity of \"%@\" over seeds 0-3: mean pairwise RMS distance %.3f (in [-1, 1] units)",
                     diversityPrompt, report.diversityMeanL2))
        if let sheet { try Evaluation.fidelitySheet(fidelity).writePNG(to: URL(fileURLWithPath: sheet)) }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json), options: .atomic)
        }
    }
}
