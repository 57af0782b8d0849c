// Limits on what one input may make the process allocate, each raised by an environment variable.
import FileIO
import Foundation

public enum ResourceLimits {
    /// Pixels (width × height) of one image a pipeline makes or reads: 2048 × 2048 by default.
    public static let maxPixelsVariable = "DIFFUSE_MAX_PIXELS"
    public static let defaultMaxPixels = 2048 * 2048
    /// Bytes of float32 parameters of one model component built from a config, checked before
    /// any weight is allocated: 4 GiB by default (a Stable Diffusion 1.x/2.x U-Net is 3.4 GB).
    public static let maxModelBytesVariable = "DIFFUSE_MAX_MODEL_BYTES"
    public static let defaultMaxModelBytes = 4 << 30

    /// The pixel limit in force.
    public static func maxPixels() throws -> Int { try value(maxPixelsVariable, default: defaultMaxPixels) }

    /// The parameter-byte limit in force.
    public static func maxModelBytes() throws -> Int { try value(maxModelBytesVariable, default: defaultMaxModelBytes) }

    /// Throws unless a `width` × `height` image is within the pixel limit; `what` names it in the message.
    public static func checkImageSize(width: Int, height: Int, field: String? = nil, what: String = "the image") throws {
        let limit = try maxPixels()
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard overflow || pixels > limit else { return }
        throw InputError(field: field, reason: "\(what) of \(width)×\(height) pixels is over the limit of \(limit) pixels "
                         + "(\(side(limit))²); set \(maxPixelsVariable) to raise it")
    }

    /// Throws unless `parameters` float32 values fit the model limit; `location` says which config.
    public static func checkModelSize(parameters: Int, location: String) throws {
        let limit = try maxModelBytes()
        let (bytes, overflow) = parameters.multipliedReportingOverflow(by: MemoryLayout<Float>.size)
        guard overflow || bytes > limit else { return }
        throw InputError(location: location, reason: "describes a model of about \(gigabytes(overflow ? Int.max : bytes)) "
                         + "(\(parameters) float32 parameters), over the limit of \(gigabytes(limit)); "
                         + "set \(maxModelBytesVariable) (bytes) to raise it")
    }

    static func value(_ variable: String, default fallback: Int) throws -> Int {
        guard let text = ProcessInfo.processInfo.environment[variable], !text.isEmpty else { return fallback }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value > 0 else {
            throw InputError(location: variable, reason: "must be a positive whole number, got \"\(text)\"")
        }
        return value
    }

    static func side(_ pixels: Int) -> Int { Int(Double(pixels).squareRoot()) }

    static func gigabytes(_ bytes: Int) -> String { String(format: "%.1f GB", Double(bytes) / 1e9) }
}
