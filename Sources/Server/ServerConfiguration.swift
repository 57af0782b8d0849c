// What a studio server is started with: where it listens, where images go, and its limits.
import Foundation

public struct ServerLimits: Sendable {
    /// Largest request body (base64 images included).
    public var maxBodyBytes = 16 * 1024 * 1024
    /// Largest uploaded image, in pixels and along each side (before any resize).
    public var maxImagePixels = 2048 * 2048
    /// Largest image to generate, along each side.
    public var maxSide = 1024
    public var maxSteps = 150
    /// Images per request (A1111: batch_size × n_iter; OpenAI: n).
    public var maxCount = 8
    /// Jobs waiting beyond this are refused with 503 rather than queued without bound.
    public var maxQueued = 64

    public init() {}
}

public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 7860
    /// Every image the server writes, and the only folder it serves images from.
    public var outputDirectory: URL
    /// The page's files; nil finds them (see `StaticFiles.locate`).
    public var staticDirectory: URL?
    public var limits = ServerLimits()
    /// The model's folder name, written into each PNG like `diffuse generate` does.
    public var modelName: String
    /// The version written into each PNG's `software` chunk.
    public var software: String

    public init(outputDirectory: URL, modelName: String, software: String) {
        self.outputDirectory = outputDirectory
        self.modelName = modelName
        self.software = software
    }
}
