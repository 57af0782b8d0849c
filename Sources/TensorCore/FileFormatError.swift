// The error of a file that breaks its format's rules: which file, and what was wrong where.

/// A file format, by the name its errors give it ("safetensors", "LoRA").
public protocol FileFormat {
    static var name: String { get }
}

/// A file of `Format` that cannot be read, or data that cannot be written as one. `reason`
/// names the tensor, key or byte offset involved.
public struct FileFormatError<Format: FileFormat>: Error, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(Format.name) \(path): \(reason)" }
}
