// Options shared by the commands that run a model.
import ArgumentParser
import FileIO
import Foundation
import NN
import Pipelines
import TensorCore

struct ModelOptions: ParsableArguments {
    @OptionGroup var source: ModelSource

    @Option(help: "Threads to use (default: all cores).")
    var threads: Int?

    @Option(help: "Precision of the products (GEMMs, convolutions, attention): bf16 takes bfloat16 inputs with float32 accumulation on CPUs with AVX-512 BF16 or AMX, and runs float32 elsewhere.")
    var precision = ComputePrecision.float32

    @Flag(help: "No progress bar or warnings on stderr.")
    var quiet = false

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Applies the thread count and precision, and loads the model. An inpainting model (a U-Net
    /// that also takes the mask and masked image) is refused unless the command is `inpaint`.
    func load(inpainting: Bool = false) throws -> (StableDiffusion, URL) {
        if let threads { Threads.count = threads }
        do {
            if try ComputePrecision.use(precision) == .float32 && precision == .bfloat16 { warn(ComputePrecision.fallbackNotice) }
        } catch {
            throw CommandFailure(message: "\(error)")
        }
        // Native bf16 rounds every weight to bf16 in its products: keep them so from the start.
        return try WeightStorage.building(inBFloat16: ComputePrecision.mode == .bfloat16) {
            try source.load(inpainting: inpainting)
        }
    }

    func warn(_ message: String) {
        if !quiet { FileHandle.standardError.write(Data("warning: \(message)\n".utf8)) }
    }

    func progress(total: Int, label: String) -> ProgressBar {
        ProgressBar(total: total, label: label, enabled: !quiet)
    }

    /// A progress bar over a pipeline's denoising steps, as its per-step callback.
    func stepProgress(total: Int, label: String) -> (DenoisingStep) -> Void {
        let bar = progress(total: total, label: label)
        return { step in bar.update(step.index + 1, of: step.count) }
    }

    /// "wrote PATH" on stderr, unless --quiet.
    func wrote(_ path: String) {
        if !quiet { FileHandle.standardError.write(Data("wrote \(path)\n".utf8)) }
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
