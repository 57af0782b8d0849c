// Options shared by the commands that run a model.
import ArgumentParser
import FileIO
import Foundation
import Pipelines
import TensorCore

struct ModelOptions: ParsableArguments {
    @Option(help: "Model folder (diffusers layout) or single-file checkpoint (.safetensors, LDM layout). Default: $DIFFUSE_MODEL, else models/emoji.")
    var model: String?

    @Option(help: "With a single-file --model: a diffusers folder whose configs, tokenizer and scheduler to use (for files not of SD's sizes).")
    var config: String?

    @Option(help: "With a single-file --model: what the U-Net predicts (\(PredictionOption.allValueStrings.joined(separator: ", "))), where the file cannot say.")
    var prediction: PredictionOption?

    @Option(help: "Threads to use (default: all cores).")
    var threads: Int?

    @Option(help: "Convolution precision: bf16 takes bfloat16 inputs with float32 accumulation (faster on CPUs with AVX-512 BF16).")
    var precision = ConvolutionPrecision.float32

    @Flag(help: "No progress bar or warnings on stderr.")
    var quiet = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Applies the thread count and precision, and loads the model.
    func load() throws -> (StableDiffusion, URL) {
        if let threads { Threads.count = threads }
        do { try ConvolutionPrecision.use(precision) } catch {
            throw CommandFailure(message: "\(error)")
        }
        let url = try ModelLocator.resolve(model)
        if !ModelLocator.isFolder(url) { return (try loadSingleFile(url), url) }
        if config != nil || prediction != nil { throw CommandFailure(message: "--config and --prediction apply to a single-file --model, and \(url.path) is a folder") }
        do {
            return (try StableDiffusion.load(directory: url), url)
        } catch {
            throw CommandFailure(message: "cannot load model \(url.path): \(error)")
        }
    }

    func warn(_ message: String) {
        if !quiet { FileHandle.standardError.write(Data("warning: \(message)\n".utf8)) }
    }

    func progress(total: Int, label: String) -> ProgressBar {
        ProgressBar(total: total, label: label, enabled: !quiet)
    }
}

/// Runs a command body, turning any error into one line on stderr and a failing exit code.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as CommandFailure {
        FileHandle.standardError.write(Data("error: \(error.message.terminalSafe)\n".utf8))
        throw ExitCode.failure
    } catch let error as ExitCode {
        throw error
    } catch PipelineError.invalidField(let field, let reason) {
        // Request fields are named like the flags that set them, except t.
        FileHandle.standardError.write(Data("error: --\(field == "timestep" ? "t" : field) \(reason)\n".utf8))
        throw ExitCode.failure
    } catch var error as InputError {
        // A library field is named like the flag that sets it.
        error.field = error.field.map { "--\($0)" }
        FileHandle.standardError.write(Data("error: \(error.description.terminalSafe)\n".utf8))
        throw ExitCode.failure
    } catch {
        FileHandle.standardError.write(Data("error: \("\(error)".terminalSafe)\n".utf8))
        throw ExitCode.failure
    }
}
