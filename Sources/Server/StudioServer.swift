// The studio server: the page, the job API with live progress, the A1111 and OpenAI APIs and
// the output folder, over one job queue on the loaded model.
import Foundation
import Hummingbird
import Logging
import Pipelines

public enum StudioServer {
    /// Serves until the process is told to stop (SIGINT / SIGTERM). `onRunning` gets the base
    /// URL once the socket listens (with the real port when `port` is 0).
    public static func run(model: StableDiffusion, configuration: ServerConfiguration,
                           onRunning: @escaping @Sendable (String) -> Void) async throws {
        let store = try OutputStore(directory: configuration.outputDirectory)
        let engine = StudioEngine(model: model, store: store, configuration: configuration)
        let queue = JobQueue(maxQueued: configuration.limits.maxQueued) { try engine.run($0) }
        queue.start()
        let facts = ModelFacts(model: model, name: configuration.modelName)
        let routes = Routes(reader: RequestReader(facts: facts, limits: configuration.limits), queue: queue, store: store,
                            files: StaticFiles(directory: StaticFiles.locate(configuration.staticDirectory)))
        let router = Router()
        router.add(middleware: ErrorMiddleware())
        routes.register(on: router)

        var logger = Logger(label: "diffuse-serve")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let host = configuration.host
        let app = Application(router: router,
                              configuration: .init(address: .hostname(host, port: configuration.port), serverName: "diffuse"),
                              onServerRunning: { channel in
                                  let port = channel.localAddress?.port ?? configuration.port
                                  let shown = host.contains(":") ? "[\(host)]" : host
                                  onRunning("http://\(shown):\(port)")
                              },
                              logger: logger)
        try await app.runService()
    }
}

/// Turns every thrown error into a JSON error response (unknown routes and oversized bodies included).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound ? "no such route: \(request.method) \(request.uri.path)"
                                         : error.status == .contentTooLarge ? "the request body is too large"
                                         : error.status.reasonPhrase)
            return APIError(error.status, message).response
        } catch {
            return APIError(.internalServerError, "\(error)").response
        }
    }
}
