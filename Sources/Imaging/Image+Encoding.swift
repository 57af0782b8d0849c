// Image PNG and JPEG encoding, in memory and written atomically to disk.
import CImageCodecs
import Foundation

extension Image {
    /// PNG bytes (8-bit RGB or RGBA) with the given text chunks. tEXt chunks must hold
    /// Latin-1 text; others are written as iTXt (UTF-8). Keys are 1...79 Latin-1 characters.
    public func pngData(textChunks: [TextChunk] = []) throws -> [UInt8] {
        try validateForEncoding()
        for chunk in textChunks {
            let valid = !chunk.key.isEmpty && chunk.key.unicodeScalars.count <= 79
                && chunk.key.unicodeScalars.allSatisfy { $0.value >= 32 && $0.value <= 255 && $0.value != 127 }
                && !chunk.key.hasPrefix(" ") && !chunk.key.hasSuffix(" ")
            guard valid else { throw ImageError.invalidArgument("invalid PNG text key \"\(chunk.key)\" (1-79 Latin-1 characters)") }
            guard !chunk.value.unicodeScalars.contains(where: { $0.value == 0 }) else {
                throw ImageError.invalidArgument("PNG text value for \"\(chunk.key)\" contains a NUL character")
            }
        }
        // Keys and tEXt values go to libpng as Latin-1 bytes; iTXt values as UTF-8.
        let encoded: [(key: [CChar], value: [CChar], itxt: Bool)] = textChunks.map { chunk in
            let latin1Value = chunk.value.unicodeScalars.allSatisfy { $0.value <= 255 }
            let itxt = chunk.kind == .iTXt || !latin1Value
            let value = itxt ? Array(chunk.value.utf8CString) : Self.latin1CString(chunk.value)
            return (Self.latin1CString(chunk.key), value, itxt)
        }
        var message = [CChar](repeating: 0, count: 512)
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status: Int32 = try withTextPointers(encoded) { texts in
            pixels.withUnsafeBufferPointer { buffer in
                dfc_encode_png(buffer.baseAddress, UInt32(width), UInt32(height), Int32(channels),
                               texts.baseAddress, texts.count, &output, &size, &message, message.count)
            }
        }
        defer { dfc_free(output) }
        guard status == Int32(DFC_OK.rawValue), let bytes = output else {
            throw ImageError.invalidArgument("PNG encoding failed: \(String(cString: message))")
        }
        return Array(UnsafeBufferPointer(start: bytes, count: size))
    }

    /// JPEG bytes at `quality` 1...100. Alpha is composited on white first.
    public func jpegData(quality: Int = 90) throws -> [UInt8] {
        try validateForEncoding()
        guard (1...100).contains(quality) else { throw ImageError.invalidArgument("JPEG quality must be 1...100, got \(quality)") }
        guard width <= 65500, height <= 65500 else {
            throw ImageError.invalidArgument("JPEG cannot hold \(width)x\(height) (65500 per side at most)")
        }
        let rgb = composited()
        var message = [CChar](repeating: 0, count: 512)
        var output: UnsafeMutablePointer<UInt8>?
        var size = 0
        let status = rgb.pixels.withUnsafeBufferPointer { buffer in
            dfc_encode_jpeg(buffer.baseAddress, UInt32(width), UInt32(height), 3, Int32(quality),
                            &output, &size, &message, message.count)
        }
        defer { dfc_free(output) }
        guard status == Int32(DFC_OK.rawValue), let bytes = output else {
            throw ImageError.invalidArgument("JPEG encoding failed: \(String(cString: message))")
        }
        return Array(UnsafeBufferPointer(start: bytes, count: size))
    }

    /// Writes a PNG atomically (temporary file in the same directory, then rename).
    public func writePNG(to url: URL, textChunks: [TextChunk] = []) throws {
        try AtomicFile.write(try pngData(textChunks: textChunks), to: url)
    }

    /// Writes a JPEG atomically (temporary file in the same directory, then rename).
    public func writeJPEG(to url: URL, quality: Int = 90) throws {
        try AtomicFile.write(try jpegData(quality: quality), to: url)
    }

    private func validateForEncoding() throws {
        guard width <= Int(UInt32.max), height <= Int(UInt32.max), pixels.count == width * height * channels else {
            throw ImageError.invalidArgument("cannot encode a \(width)x\(height)x\(channels) image holding \(pixels.count) bytes")
        }
    }

    private static func latin1CString(_ text: String) -> [CChar] {
        text.unicodeScalars.map { CChar(bitPattern: UInt8(truncatingIfNeeded: $0.value)) } + [0]
    }

    /// Calls `body` with C text descriptors; their strings are copied and freed around the call.
    private func withTextPointers<R>(_ texts: [(key: [CChar], value: [CChar], itxt: Bool)],
                                     _ body: (UnsafeBufferPointer<dfc_text_in>) throws -> R) throws -> R {
        var allocations: [UnsafeMutablePointer<CChar>] = []
        defer { allocations.forEach { $0.deallocate() } }
        func copy(_ string: [CChar]) -> UnsafePointer<CChar> {
            let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: string.count)
            pointer.initialize(from: string, count: string.count)
            allocations.append(pointer)
            return UnsafePointer(pointer)
        }
        let descriptors = texts.map { dfc_text_in(key: copy($0.key), value: copy($0.value), use_itxt: $0.itxt ? 1 : 0) }
        return try descriptors.withUnsafeBufferPointer { try body($0) }
    }
}
