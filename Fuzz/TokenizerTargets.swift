// The CLIP tokenizer: its files (vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json)
// and prompts of arbitrary bytes through the shipped vocabulary.
import Foundation
import Models

/// Input: the four files separated by NUL bytes; a missing part is a missing (optional) file.
let tokenizerFilesTarget = FuzzTarget(name: "tokenizer-files", summary: "vocab.json, merges.txt and the two tokenizer configs, NUL-separated") { bytes in
    let folder = scratchFolder.appendingPathComponent("tokenizer")
    try? FileManager.default.removeItem(at: folder)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let names = ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]
    for (name, part) in zip(names, parts(bytes, count: names.count)) {
        if let part { try Data(part).write(to: folder.appendingPathComponent(name)) }
    }
    let tokenizer = try CLIPTokenizer(directory: folder)
    let ids = tokenizer.inputIDs("a photo of an astronaut riding a horse, <|endoftext|> 😀").ids
    // The oracle: every id the tokenizer emits is one its files define.
    for id in ids where tokenizer.token(forID: id) == nil { fatalError("tokenizer emitted id \(id), which no token has") }
    _ = tokenizer.decode(ids)
}

nonisolated(unsafe) private var shippedTokenizer: CLIPTokenizer?

/// Input: a prompt of arbitrary bytes (decoded as UTF-8 with replacement, as the CLI reads it).
let tokenizeTarget = FuzzTarget(name: "tokenize", summary: "prompts of arbitrary bytes through the CLIP vocabulary, and ids back to text", setUp: {
    shippedTokenizer = try CLIPTokenizer(directory: sharedFolder().appendingPathComponent("fixtures/diffusers-tiny/tokenizer"))
}) { bytes in
    guard let tokenizer = shippedTokenizer else { return }
    let text = String(decoding: bytes, as: UTF8.self)
    let ids = tokenizer.encode(text)
    _ = tokenizer.inputIDs(text, maxLength: 77)
    _ = tokenizer.decode(ids, skipSpecialTokens: true)
    // The same bytes read as ids (any Int, negative and unknown ones included).
    let rawIDs = stride(from: 0, to: bytes.count - bytes.count % 4, by: 4).map { i in
        Int(Int32(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24))
    }
    _ = tokenizer.decode(rawIDs)
}
