// ImageDecoder: decodes PNG or JPEG (chosen by leading bytes) with pixel and byte limits.
import CImageCodecs
import Foundation

/// Decodes PNG and JPEG files. The codec is chosen from the leading bytes, never the name.
public struct ImageDecoder {
    /// 64 Mpixel: a 256 MB RGBA buffer at most.
    public static let defaultMaxPixels = 64 * 1024 * 1024
    /// Files larger than this are not read at all.
    public static let defaultMaxFileBytes = 512 * 1024 * 1024

    public var maxPixels: Int
    public var maxFileBytes: Int

    public init(maxPixels: Int = ImageDecoder.defaultMaxPixels, maxFileBytes: Int = ImageDecoder.defaultMaxFileBytes) {
        self.maxPixels = maxPixels
        self.maxFileBytes = maxFileBytes
    }

    /// Reads and decodes a file.
    public func decode(contentsOf url: URL) throws -> DecodedImage {
        let name = url.path
        let bytes = try Self.readFile(url, limit: maxFileBytes)
        return try decode(bytes, name: name)
    }

    /// Decodes bytes held in memory; `name` is used in error messages.
    public func decode(_ bytes: [UInt8], name: String) throws -> DecodedImage {
        var result = dfc_image()
        defer { dfc_image_free(&result) }
        let status = bytes.withUnsafeBufferPointer { buffer in
            dfc_decode(buffer.baseAddress, buffer.count, UInt64(max(0, maxPixels)), &result)
        }
        let message = Self.string(fromMessage: &result.message)
        let format: ImageFormat? = result.format == Int32(DFC_FORMAT_PNG.rawValue) ? .png
            : result.format == Int32(DFC_FORMAT_JPEG.rawValue) ? .jpeg : nil
        guard status == Int32(DFC_OK.rawValue), let pixelsPointer = result.pixels, let format = format else {
            throw Self.error(status: status, message: message, format: format, name: name)
        }
        let width = Int(result.width), height = Int(result.height)
        let rgba = Array(UnsafeBufferPointer(start: pixelsPointer, count: width * height * 4))
        let image = Image(validatedWidth: width, height: height, channels: 4, pixels: rgba)
        let metadata = Self.metadata(of: result, format: format)
        return DecodedImage(image: metadata.hasAlpha ? image : image.droppingAlpha(), metadata: metadata)
    }

    static func readFile(_ url: URL, limit: Int) throws -> [UInt8] {
        let name = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory) else {
            throw ImageError.unreadable(file: name, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw ImageError.unreadable(file: name, reason: "is a directory") }
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)
        guard let size = (attributes?[.size] as? NSNumber)?.intValue,
              attributes?[.type] as? FileAttributeType == .typeRegular else {
            throw ImageError.unreadable(file: name, reason: "not a regular file")
        }
        guard size <= limit else {
            throw ImageError.tooLarge(file: name, reason: "file is \(size) bytes, above the limit of \(limit) bytes")
        }
        guard let handle = FileHandle(forReadingAtPath: name) else {
            throw ImageError.unreadable(file: name, reason: "cannot open for reading")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            // Never more than the limit, even if the file grew since it was measured.
            data = try handle.read(upToCount: min(limit, size) + 1) ?? Data()
        } catch {
            throw ImageError.unreadable(file: name, reason: "read failed: \(error.localizedDescription)")
        }
        guard data.count <= limit else {
            throw ImageError.tooLarge(file: name, reason: "file is larger than the limit of \(limit) bytes")
        }
        return [UInt8](data)
    }

    static func error(status: Int32, message: String, format: ImageFormat?, name: String) -> ImageError {
        let prefix = format.map { "\($0.rawValue): " } ?? ""
        switch UInt32(bitPattern: status) {
        case DFC_NOT_AN_IMAGE.rawValue: return .notAnImage(file: name, reason: message)
        case DFC_TOO_LARGE.rawValue: return .tooLarge(file: name, reason: message)
        case DFC_UNSUPPORTED.rawValue: return .unsupported(file: name, reason: prefix + message)
        case DFC_NO_MEMORY.rawValue: return .tooLarge(file: name, reason: message)
        default: return .corrupt(file: name, reason: prefix + (message.isEmpty ? "corrupt data" : message))
        }
    }

    static func string<T>(fromMessage tuple: inout T) -> String {
        withUnsafeBytes(of: &tuple) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    static func metadata(of result: dfc_image, format: ImageFormat) -> ImageMetadata {
        var texts: [TextChunk] = []
        if let chunks = result.texts {
            for index in 0..<result.text_count {
                let chunk = chunks[index]
                let kind: TextChunk.Kind = chunk.kind == 0 ? .tEXt : chunk.kind == 1 ? .zTXt : .iTXt
                let key = latin1(chunk.key)
                let value = kind == .iTXt ? chunk.value.map { String(cString: $0) } ?? "" : latin1(chunk.value)
                texts.append(TextChunk(key: key, value: value, kind: kind))
            }
        }
        switch format {
        case .png:
            let colorType = Int(result.png_color_type)
            let (name, components) = pngColorType(colorType)
            return ImageMetadata(
                format: .png, width: Int(result.width), height: Int(result.height), colorType: name,
                pngColorType: colorType, components: components, bitDepth: Int(result.png_bit_depth),
                interlace: result.png_interlace == 0 ? "none" : "adam7", hasAlpha: result.has_alpha != 0,
                textChunks: texts, orientation: 1, ignoredWarnings: Int(result.warning_count))
        case .jpeg:
            return ImageMetadata(
                format: .jpeg, width: Int(result.width), height: Int(result.height),
                colorType: jpegColorSpace(Int(result.jpeg_color_space)), pngColorType: nil,
                components: Int(result.jpeg_components), bitDepth: Int(result.jpeg_precision),
                interlace: jpegProcess(sof: Int(result.jpeg_sof)), hasAlpha: false, textChunks: texts,
                orientation: Int(result.orientation), ignoredWarnings: Int(result.warning_count))
        }
    }

    static func latin1(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer = pointer else { return "" }
        let length = strlen(pointer)
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
            String(String.UnicodeScalarView(UnsafeBufferPointer(start: bytes, count: length).map { Unicode.Scalar($0) }))
        }
    }

    static func pngColorType(_ type: Int) -> (String, Int) {
        switch type {
        case 0: return ("gray", 1)
        case 2: return ("rgb", 3)
        case 3: return ("palette", 1)
        case 4: return ("gray+alpha", 2)
        case 6: return ("rgba", 4)
        default: return ("unknown", 0)
        }
    }

    static func jpegColorSpace(_ space: Int) -> String {
        switch space {
        case 1: return "gray"
        case 2: return "rgb"
        case 3: return "ycbcr"
        case 4: return "cmyk"
        case 5: return "ycck"
        default: return "unknown"
        }
    }

    /// The coding process from the SOF marker: C0 baseline, C1/C9 extended, C2/CA progressive, C3/CB lossless.
    static func jpegProcess(sof: Int) -> String {
        guard sof >= 0xC0 else { return "unknown" }
        let arithmetic = sof >= 0xC8
        let process: String
        switch sof & 0x3 {
        case 0: process = arithmetic ? "extended" : "baseline"
        case 1: process = "extended"
        case 2: process = "progressive"
        default: process = "lossless"
        }
        return arithmetic ? process + "+arith" : process
    }
}
