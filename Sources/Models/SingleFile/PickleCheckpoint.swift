// Refuses PyTorch pickle checkpoints (.ckpt, .pt, .pth, .bin) before anything reads them.
import Foundation

public enum PickleCheckpoint {
    /// File extensions of torch.save / pickle files.
    public static let extensions: Set<String> = ["ckpt", "pt", "pth", "bin", "pkl", "pickle"]

    /// Throws `SingleFileError.pickle` when `url` is a pickle checkpoint, by its extension or by its
    /// first bytes (torch's zip archive "PK\u{3}\u{4}" or a pickle protocol opcode 0x80).
    public static func refuse(_ url: URL) throws {
        let ext = url.pathExtension.lowercased()
        if extensions.contains(ext) {
            throw SingleFileError.pickle(path: url.path, reason: "a PyTorch pickle checkpoint (.\(ext))")
        }
        guard let handle = FileHandle(forReadingAtPath: url.path) else { return }
        defer { try? handle.close() }
        let head = [UInt8]((try? handle.read(upToCount: 9)) ?? Data())
        if head.count == 9, head[8] == UInt8(ascii: "{") { return }  // a safetensors header follows its 8-byte length
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            throw SingleFileError.pickle(path: url.path, reason: "a PyTorch zip checkpoint (torch.save) whatever its name says")
        }
        if head.count >= 2, head[0] == 0x80, (2...5).contains(head[1]) {
            throw SingleFileError.pickle(path: url.path, reason: "a pickle file (protocol \(head[1])) whatever its name says")
        }
    }
}
