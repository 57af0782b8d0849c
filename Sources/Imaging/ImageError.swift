// ImageError: why an image could not be read, written or processed, naming the file.

/// Every imaging failure. `description` reads "<file>: <reason>" when a file is involved.
public enum ImageError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read from disk.
    case unreadable(file: String, reason: String)
    /// The leading bytes are neither PNG nor JPEG (or the file is empty).
    case notAnImage(file: String, reason: String)
    /// The codec found damaged data (CRC, truncation, invalid header, corrupt scan...).
    case corrupt(file: String, reason: String)
    /// A valid file using a feature this toolkit does not support (12-bit JPEG...).
    case unsupported(file: String, reason: String)
    /// Larger than the pixel or byte limit; refused before the pixels were allocated.
    case tooLarge(file: String, reason: String)
    /// Writing the file failed.
    case writeFailed(file: String, reason: String)
    /// A bad argument to an imaging operation (sizes, channel counts, keys).
    case invalidArgument(String)

    /// The file involved, if any.
    public var file: String? {
        switch self {
        case .unreadable(let file, _), .notAnImage(let file, _), .corrupt(let file, _),
             .unsupported(let file, _), .tooLarge(let file, _), .writeFailed(let file, _):
            return file
        case .invalidArgument:
            return nil
        }
    }

    /// What went wrong, without the file name.
    public var reason: String {
        switch self {
        case .unreadable(_, let reason), .notAnImage(_, let reason), .corrupt(_, let reason),
             .unsupported(_, let reason), .tooLarge(_, let reason), .writeFailed(_, let reason):
            return reason
        case .invalidArgument(let reason):
            return reason
        }
    }

    public var description: String {
        if let file = file { return "\(file): \(reason)" }
        return reason
    }
}
