// `diffuse gallery PROMPTS.txt`: one image per prompt line, in a numbered grid.
import ArgumentParser
import Foundation
import Imaging
import Pipelines

struct GalleryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gallery",
        abstract: "Generate one image per line of a text file and lay them out in a numbered grid.")

    @Argument(help: "A text file with one prompt per line.")
    var prompts: String

    @OptionGroup(title: "Sampling (the same for every image)") var sampling: SamplingOptions

    @Option(help: "Images per row.")
    var columns = 8

    @Option(name: .shortAndLong, help: "Output PNG (the grid); tiles are numbered by prompt line.")
    var output = "gallery.png"

    @OptionGroup var modelOptions: ModelOptions

    func run() throws {
        try reportingErrors {
            let text: String
            do { text = try String(contentsOfFile: prompts, encoding: .utf8) } catch {
                throw CommandFailure(message: "\(prompts): cannot read the prompt file (\(error.localizedDescription))")
            }
            let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !lines.isEmpty else { throw CommandFailure(message: "\(prompts): no prompts") }
            let (model, modelURL) = try modelOptions.load()
            try sampling.applyLoRAs(to: model)
            let progress = modelOptions.progress(total: lines.count, label: "gallery")
            var tiles: [(Image, String)] = []
            for (index, prompt) in lines.enumerated() {
                var request = GenerationRequest(prompt: prompt)
                sampling.apply(to: &request)
                tiles.append((try model.generate(request, warn: modelOptions.warn).images.image(), "\(index + 1)"))
                progress.update(index + 1)
            }
            let grid = try Visualization.labelledGrid(tiles, columns: columns)
            let numbered = lines.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: "\n")
            let parameters = [("prompts", numbered)] + sampling.parameters + [("model", modelURL.lastPathComponent)]
            try grid.writePNG(to: URL(fileURLWithPath: output), textChunks: parameters.map { TextChunk(key: $0.0, value: $0.1) })
        }
    }
}
