// `--data`: the captioned image folder that the trainers and `evaluate` read.
import ArgumentParser
import Foundation
import Training

struct DatasetOption: ParsableArguments {
    @Option(help: "Folder of PNG/JPEG images (captions: metadata.jsonl, captions.tsv or NAME.txt).")
    var data: String

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("--data is empty") }
    }

    /// The images at `resolution` (progress on stderr unless `quiet`); each unreadable one is
    /// named in a warning.
    func load(resolution: Int, quiet: Bool) throws -> CaptionedImageFolder {
        let progress = ProgressBarProxy(enabled: !quiet, label: "load images")
        let folder = try CaptionedImageFolder(directory: URL(fileURLWithPath: data), resolution: resolution) { done, total in
            progress.update(done, total)
        }
        for (file, reason) in folder.skipped {
            FileHandle.standardError.write(Data("warning: skipped \(file): \(reason)\n".utf8))
        }
        return folder
    }
}
