// AtomicFile: image outputs written through FileIO's OutputFile (atomic for regular files;
// devices, FIFOs, links and hard-linked files respected), failures as ImageError.
import Foundation
import FileIO

public enum AtomicFile {
    /// Writes `bytes` to `url` so that readers see either the old file or the whole new one.
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        do { try OutputFile.write(bytes, to: url) } catch let error as OutputFileError {
            throw ImageError.writeFailed(file: error.path, reason: error.reason)
        }
    }
}
