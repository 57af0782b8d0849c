// `diffuse serve`: loads the model once and serves the web studio and its HTTP APIs.
import ArgumentParser
import Dispatch
import Foundation
import Pipelines
import Server

struct ServeCommand: ModelCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the web studio and the A1111 / OpenAI image APIs on one loaded model.")

    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port = 7860

    @Option(help: "Address to listen on (127.0.0.1 keeps it to this machine).")
    var host = "127.0.0.1"

    @Option(help: "Folder for every generated image; the only folder images are served from.")
    var output = "outputs"

    @Option(help: "Folder of the page's files (default: found beside the executable or in the source tree).")
    var staticFiles: String?

    @OptionGroup var modelOptions: ModelOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        guard !host.isEmpty else { throw ValidationError("--host must not be empty") }
    }

    func run(model: StableDiffusion, url: URL) throws {
        var configuration = ServerConfiguration(outputDirectory: URL(fileURLWithPath: output),
                                                modelName: url.lastPathComponent,
                                                software: "diffuse \(Diffuse.configuration.version)")
        configuration.host = host
        configuration.port = port
        configuration.staticDirectory = staticFiles.map { URL(fileURLWithPath: $0) }
        let outputPath = URL(fileURLWithPath: output).standardizedFileURL.path
        let failure = ServeFailure()
        let done = DispatchSemaphore(value: 0)
        // The server runs on Swift concurrency's threads; this thread only waits for it to stop.
        Task.detached {
            do {
                try await StudioServer.run(model: model, configuration: configuration) { address in
                    let line = "Diffuse studio: \(address)  (model \(url.lastPathComponent), images in \(outputPath))\n"
                    FileHandle.standardOutput.write(Data(line.utf8))
                }
            } catch {
                failure.message = "\(error)"
            }
            done.signal()
        }
        done.wait()
        if let message = failure.message { throw CommandFailure(message: "serve: \(message)") }
    }
}

/// Carries a server error from its task back to the waiting command.
private final class ServeFailure: @unchecked Sendable {
    var message: String?
}
