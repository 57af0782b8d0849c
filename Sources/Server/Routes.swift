// Every route of the server, each a thin call into the queue, the APIs or the output folder.
import Foundation
import Hummingbird

struct Routes: Sendable {
    let reader: RequestReader
    let queue: JobQueue
    let store: OutputStore
    let files: StaticFiles

    func register(on router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in try page("index.html") }
        router.get("/static/{file}") { _, context in try page(context.parameters.get("file") ?? "") }
        router.get("/outputs/{name}") { _, context in try output(context.parameters.get("name") ?? "") }

        router.get("/api/info") { _, _ in
            var info = reader.facts.json
            info["limits"] = ["max_steps": reader.limits.maxSteps, "max_count": reader.limits.maxCount,
                              "max_side": reader.limits.maxSide, "max_body_bytes": reader.limits.maxBodyBytes]
            return JSONResponse.make(info)
        }
        router.get("/api/status") { _, _ in
            let counts = queue.counts
            return JSONResponse.make(["waiting": counts.waiting, "running": counts.running, "completed": counts.completed,
                                      "tracked_jobs": counts.tracked, "resident_bytes": ProcessMemory.residentBytes() ?? -1])
        }
        router.post("/api/jobs") { request, _ -> Response in
            let job = try queue.submit(try reader.studioJob(try await body(request)))
            return JSONResponse.make(job.snapshot().json, status: .accepted)
        }
        router.get("/api/jobs") { _, _ in
            JSONResponse.make(["jobs": queue.active.map { $0.snapshot(previewsFrom: Int.max).json }])
        }
        router.get("/api/jobs/{id}") { _, context -> Response in
            JSONResponse.make(try job(context).snapshot().json)
        }
        router.get("/api/jobs/{id}/events") { _, context -> Response in events(try job(context)) }
        router.post("/api/jobs/{id}/cancel") { _, context -> Response in try cancel(context) }
        router.delete("/api/jobs/{id}") { _, context -> Response in try cancel(context) }
        router.get("/api/history") { request, _ -> Response in
            let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) }.map { min(max($0, 1), 1000) } ?? 200
            return JSONResponse.make(["images": store.history(limit: limit)])
        }

        let a1111 = A1111API(reader: reader, queue: queue)
        router.post("/sdapi/v1/txt2img") { request, _ in try await a1111.txt2img(try await body(request)) }
        router.post("/sdapi/v1/img2img") { request, _ in try await a1111.img2img(try await body(request)) }
        router.get("/sdapi/v1/progress") { request, _ in
            a1111.progress(skipCurrentImage: request.uri.queryParameters.get("skip_current_image") == "true")
        }
        router.post("/sdapi/v1/interrupt") { _, _ in a1111.interrupt() }
        router.get("/sdapi/v1/samplers") { _, _ in a1111.samplers }

        let openAI = OpenAIAPI(reader: reader, queue: queue)
        router.post("/v1/images/generations") { request, _ in
            let host = request.head.authority ?? "127.0.0.1"
            return try await openAI.generations(try await body(request), baseURL: "http://\(host)")
        }
    }

    private func body(_ request: Request) async throws -> JSONFields {
        var request = request
        let limit = reader.limits.maxBodyBytes
        let buffer: ByteBuffer
        do { buffer = try await request.collectBody(upTo: limit) } catch {
            // Collecting fails only on a body over the limit (or a connection already gone).
            throw APIError(.contentTooLarge, "the request body is larger than \(limit) bytes")
        }
        return try JSONFields(Array(buffer.readableBytesView))
    }

    private func page(_ name: String) throws -> Response {
        guard let response = files.response(name) else { throw APIError(.notFound, "no such file: \(name)") }
        return response
    }

    private func output(_ name: String) throws -> Response {
        guard let url = store.file(named: name), let data = FileManager.default.contents(atPath: url.path) else {
            throw APIError(.notFound, "no such image in the output folder")
        }
        var headers: HTTPFields = [.contentType: "image/png", .cacheControl: "no-cache"]
        if let noSniff = HTTPFields.Element.Name("X-Content-Type-Options") { headers[noSniff] = "nosniff" }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func job(_ context: BasicRequestContext) throws -> Job {
        let id = context.parameters.get("id") ?? ""
        guard let job = queue.job(id) else { throw APIError(.notFound, "no job \(id) (finished jobs are kept for a while only)") }
        return job
    }

    private func cancel(_ context: BasicRequestContext) throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let job = queue.cancel(id) else { throw APIError(.notFound, "no job \(id)") }
        return JSONResponse.make(job.snapshot(previewsFrom: Int.max).json)
    }

    /// Server-sent events: the job's state on every change, each event carrying only the
    /// previews not sent before; the stream ends when the job does.
    private func events(_ job: Job) -> Response {
        let body = ResponseBody { writer in
            var sent = 0
            while true {
                let snapshot = job.snapshot(previewsFrom: sent)
                let data = (try? JSONSerialization.data(withJSONObject: snapshot.json)) ?? Data("{}".utf8)
                var buffer = ByteBuffer(string: "data: ")
                buffer.writeBytes(data)
                buffer.writeString("\n\n")
                try await writer.write(buffer)
                sent = snapshot.previews
                if let state = snapshot.json["state"] as? String, JobState(rawValue: state)?.isFinished == true { break }
                await job.waitForChange(after: snapshot.version)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}
