// The page's files (HTML, CSS, JS), read once at start from a folder found wherever the binary runs.
import FileIO
import Foundation
import Hummingbird

struct StaticFiles: Sendable {
    private let files: [String: (type: String, bytes: [UInt8])]
    let directory: URL?

    /// Where the files are: the configured folder, $DIFFUSE_STATIC, SwiftPM's resource bundle
    /// beside the executable (or installed in share/diffuse), then the source tree this file was built from.
    static func locate(_ configured: URL?) -> URL? {
        var candidates: [URL] = []
        if let configured { candidates.append(configured) }
        if let fromEnvironment = ProcessInfo.processInfo.environment["DIFFUSE_STATIC"], !fromEnvironment.isEmpty {
            candidates.append(URL(fileURLWithPath: fromEnvironment))
        }
        // Beside the executable (a build) or in PREFIX/share/diffuse (scripts/install.sh).
        candidates += InstalledResources.candidates("Diffuse_Server.resources/Static").dropFirst()
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Static"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path) }
    }

    init(directory: URL?) {
        self.directory = directory
        var files: [String: (String, [UInt8])] = [:]
        if let directory, let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) {
            for name in names where !name.hasPrefix(".") {
                guard let type = Self.types[(name as NSString).pathExtension],
                      let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else { continue }
                files[name] = (type, [UInt8](data))
            }
        }
        if files["index.html"] == nil {
            files["index.html"] = ("text/html; charset=utf-8", Array(Self.missingPage.utf8))
        }
        self.files = files
    }

    static let types = ["html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
                        "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml", "png": "image/png"]

    static let missingPage = """
        <!doctype html><meta charset="utf-8"><title>Diffuse</title>
        <p>The studio page's files were not found (set DIFFUSE_STATIC to Sources/Server/Static).
        The APIs under /sdapi/v1 and /v1 work without them.</p>
        """

    /// The file by exact name (the folder is read into memory, so no path reaches the disk).
    func response(_ name: String) -> Response? {
        guard let file = files[name] else { return nil }
        return Response(status: .ok, headers: [.contentType: file.type, .cacheControl: "no-cache"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
