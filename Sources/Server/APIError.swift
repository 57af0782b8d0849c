// Errors a request can get back: an HTTP status and a JSON body that names the field at fault.
import Foundation
import Hummingbird

public struct APIError: Error, CustomStringConvertible, Sendable {
    public var status: HTTPResponse.Status
    public var message: String
    /// The request field at fault, when one is.
    public var field: String?

    public init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
    }

    public static func badField(_ field: String, _ message: String) -> APIError {
        APIError(.badRequest, "\(field): \(message)", field: field)
    }

    public var description: String { message }

    /// `{"error": {"message", "field", "status"}}` (with OpenAI's `param` and `type`), plus
    /// A1111's `detail`, so each API's clients find the message where they look.
    var response: Response {
        let type = status.code < 500 ? "invalid_request_error" : "server_error"
        var body: [String: Any] = ["message": message, "status": Int(status.code), "type": type]
        body["field"] = field ?? NSNull()
        body["param"] = field ?? NSNull()
        return JSONResponse.make(["error": body, "detail": message], status: status)
    }
}

enum JSONResponse {
    static func make(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
