// The typed error of safetensors reading and writing: which file, and what was wrong where.

/// A safetensors failure. `reason` names the tensor, key or byte offset involved.
public struct SafetensorsError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "safetensors \(path): \(reason)" }
}
