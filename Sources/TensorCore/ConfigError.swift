// The one error type of config files (scheduler, U-Net, VAE, CLIP configs): which file, which key, why.

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    /// The file's path, or a name such as `<UNetConfig>` for a config built in code.
    public var file: String
    /// The JSON key (dotted into nested values: `block_out_channels.1`); nil for the whole file.
    public var key: String?
    public var reason: String

    public init(file: String, key: String? = nil, reason: String) {
        self.file = file
        self.key = key
        self.reason = reason
    }

    public var description: String {
        guard let key else { return "\(file): \(reason)" }
        return "\(file): \(key): \(reason)"
    }
}
