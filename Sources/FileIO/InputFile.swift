// Reading a whole input file with one clear error naming the path: a folder, FIFO, device or
// unreadable file where a file belongs, a file over a size limit, text that is not UTF-8.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum InputFile {
    /// Files larger than this are refused before reading (1 GiB; weights are memory-mapped, not read).
    public static let defaultMaxBytes = 1 << 30

    /// Throws unless `url` is a regular file (symbolic links followed) that this process may read.
    public static func requireRegularFile(_ url: URL) throws {
        let path = url.path
        guard !path.isEmpty else { throw InputError(location: "\"\"", reason: "the path is empty") }
        var info = stat()
        guard stat(path, &info) == 0 else { throw InputError.at(path, reason(errno)) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw InputError.at(path, "is a folder, expected a file")
        case S_IFIFO: throw InputError.at(path, "is a FIFO, expected a regular file")
        case S_IFCHR, S_IFBLK: throw InputError.at(path, "is a device, expected a regular file")
        case S_IFSOCK: throw InputError.at(path, "is a socket, expected a regular file")
        default: throw InputError.at(path, "is not a regular file")
        }
        guard access(path, R_OK) == 0 else { throw InputError.at(path, reason(errno)) }
    }

    /// The whole file as bytes. `/proc` files report size 0 and are read to their end like any other.
    public static func read(_ url: URL, maxBytes: Int = defaultMaxBytes) throws -> Data {
        try requireRegularFile(url)
        let path = url.path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw InputError.at(path, reason(errno)) }
        defer { close(descriptor) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw InputError.at(path, reason(errno))
            }
            if count == 0 { return data }
            data.append(contentsOf: buffer[0..<count])
            guard data.count <= maxBytes else {
                throw InputError.at(path, "is larger than the \(maxBytes)-byte limit for this kind of file")
            }
        }
    }

    /// The whole file as UTF-8 text; invalid UTF-8 is an error naming the line and byte offset.
    public static func readText(_ url: URL, maxBytes: Int = defaultMaxBytes) throws -> String {
        let bytes = [UInt8](try read(url, maxBytes: maxBytes))
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        let offset = firstInvalidUTF8Offset(bytes)
        let line = bytes[..<offset].reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        throw InputError.at("\(url.path):\(line)", "is not valid UTF-8 text (byte offset \(offset))")
    }

    /// The offset of the first byte that is not part of a valid UTF-8 sequence.
    static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return offset
            case .error: return offset
            }
        }
    }

    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES, EPERM: return "permission denied"
        case ENOTDIR: return "a part of the path is not a folder"
        case ELOOP: return "too many levels of symbolic links"
        case ENAMETOOLONG: return "the path is too long"
        default: return String(cString: strerror(code))
        }
    }
}
