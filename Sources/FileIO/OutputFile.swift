// Writing a whole output file without losing what was there: a regular file is replaced
// atomically and keeps its permissions; a device, FIFO or socket is written through; a symbolic
// link is followed; a file with several hard links is rewritten in place so the links stay one file.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct OutputFileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

public enum OutputFile {
    /// Writes `data` to `url` so that a reader of a regular file sees the old file or the whole
    /// new one, never a part; a failed write (a full disk, `/dev/full`) is an error.
    public static func write(_ data: Data, to url: URL) throws {
        try data.withUnsafeBytes { try write($0, to: url.path) }
    }

    public static func write(_ bytes: [UInt8], to url: URL) throws {
        try bytes.withUnsafeBytes { try write($0, to: url.path) }
    }

    static func write(_ bytes: UnsafeRawBufferPointer, to path: String, linksFollowed: Int = 0) throws {
        guard !path.isEmpty else { throw OutputFileError(path: "\"\"", reason: "the path is empty") }
        var info = stat()
        guard lstat(path, &info) == 0 else {
            guard errno == ENOENT else { throw OutputFileError(path: path, reason: lastError()) }
            return try replace(path, with: bytes, keeping: nil)
        }
        switch info.st_mode & S_IFMT {
        case S_IFLNK:
            guard linksFollowed < 40 else { throw OutputFileError(path: path, reason: "too many levels of symbolic links") }
            try write(bytes, to: try linkTarget(of: path), linksFollowed: linksFollowed + 1)
        case S_IFDIR:
            throw OutputFileError(path: path, reason: "it is a directory")
        case S_IFREG where info.st_nlink > 1:
            try writeThrough(path, bytes, truncating: true)
        case S_IFREG:
            try replace(path, with: bytes, keeping: info)
        default:
            // A device, FIFO or socket: its node is the user's, only its stream is ours.
            try writeThrough(path, bytes, truncating: false)
        }
    }

    /// Temporary files of interrupted writes of `url` (left by a killed process) are removed.
    public static func removeStaleTemporaries(besides url: URL) {
        let directory = url.deletingLastPathComponent()
        let prefix = temporaryPrefix(url.lastPathComponent)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            let pid = name.dropFirst(prefix.count).split(separator: "-").first.flatMap { Int32($0) }
            // Another live process may be writing it right now.
            if let pid, kill(pid, 0) == 0 || errno == EPERM { continue }
            unlink(directory.appendingPathComponent(name).path)
        }
    }

    static func temporaryPrefix(_ name: String) -> String { ".\(name).tmp-" }

    /// A temporary file beside `path`, filled, flushed and renamed over it.
    private static func replace(_ path: String, with bytes: UnsafeRawBufferPointer, keeping existing: stat?) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(
            temporaryPrefix(url.lastPathComponent) + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        // A new file gets 0666 less the umask, as any program's output; a replaced one keeps its mode.
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            throw OutputFileError(path: path, reason: "cannot create a temporary file beside it: \(lastError())")
        }
        var failure: String?
        if let existing {
            if fchmod(descriptor, existing.st_mode & 0o7777) != 0 { failure = lastError() }
            _ = fchown(descriptor, existing.st_uid, existing.st_gid)  // only root can; others keep their own
        }
        if failure == nil { failure = writeAll(descriptor, bytes) }
        if failure == nil, fsync(descriptor) != 0 { failure = lastError() }
        if close(descriptor) != 0, failure == nil { failure = lastError() }
        if failure == nil, rename(temporary, path) != 0 { failure = lastError() }
        if let failure {
            unlink(temporary)
            throw OutputFileError(path: path, reason: failure)
        }
    }

    private static func writeThrough(_ path: String, _ bytes: UnsafeRawBufferPointer, truncating: Bool) throws {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC | (truncating ? O_TRUNC : 0))
        guard descriptor >= 0 else { throw OutputFileError(path: path, reason: lastError()) }
        var failure = writeAll(descriptor, bytes)
        if failure == nil, truncating, fsync(descriptor) != 0 { failure = lastError() }
        if close(descriptor) != 0, failure == nil { failure = lastError() }
        if let failure { throw OutputFileError(path: path, reason: failure) }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> String? {
        guard let base = bytes.baseAddress else { return nil }
        var written = 0
        while written < bytes.count {
            let result = Glibc.write(descriptor, base + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                return lastError()
            }
            written += result
        }
        return nil
    }

    /// Where the symbolic link at `path` points, relative links taken from its folder.
    private static func linkTarget(of path: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { throw OutputFileError(path: path, reason: lastError()) }
        let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if target.hasPrefix("/") { return target }
        return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(target).path
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
