// Errors of LoRA files: every one names the file and the key it is about.
public struct LoRAError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "LoRA \(path): \(reason)" }
}
