// OpenAI's image API shape: POST /v1/images/generations → {"created", "data": [{"b64_json"}]}.
import Foundation
import Hummingbird

struct OpenAIAPI: Sendable {
    let reader: RequestReader
    let queue: JobQueue

    func generations(_ fields: JSONFields, baseURL: String) async throws -> Response {
        // Diffuse's own names (seed, steps, guidance, sampler, negative_prompt) are accepted as extensions.
        var spec = try reader.sampling(fields, mode: .txt2img, names: .studio, promptRequired: true)
        spec.origin = "openai"
        if let n = try fields.int("n", in: 1...reader.limits.maxCount) { spec.count = n }
        if let size = try fields.string("size", maxLength: 32), size != "auto" {
            let parts = size.lowercased().split(separator: "x").map { Int($0) }
            guard parts.count == 2, let width = parts[0], let height = parts[1] else {
                throw APIError.badField("size", "must look like 32x32, got '\(size)'")
            }
            try reader.facts.checkSize(width: width, height: height, limits: reader.limits, field: "size")
            (spec.width, spec.height) = (width, height)
        }
        let format = try fields.string("response_format", maxLength: 16) ?? "b64_json"
        guard format == "b64_json" || format == "url" else {
            throw APIError.badField("response_format", "must be b64_json or url, got '\(format)'")
        }
        let job = try queue.submit(spec)
        await job.waitUntilFinished()
        switch job.state {
        case .failed: throw job.error ?? APIError(.internalServerError, "the job failed")
        case .cancelled: throw APIError(.conflict, "the job was cancelled")
        default: break
        }
        let data: [[String: Any]] = (job.output?.images ?? []).map { image in
            format == "url" ? ["url": "\(baseURL)/outputs/\(image.name)", "revised_prompt": spec.prompt]
                : ["b64_json": Data(image.png).base64EncodedString(), "revised_prompt": spec.prompt]
        }
        return JSONResponse.make(["created": Int(job.created.timeIntervalSince1970), "data": data])
    }
}
