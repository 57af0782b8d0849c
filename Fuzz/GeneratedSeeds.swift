// Seed inputs that ../shared holds only in another shape: NUL-joined tokenizer files, prompts, checkpoints.
import Foundation
import TensorCore
@testable import Training

/// Writes `FUZZ_TARGET`'s generated seeds into `folder` (scripts/fuzz.sh adds the shared files itself).
func writeGeneratedSeeds(for target: String, into folder: URL) throws {
    let seeds: [String: [UInt8]]
    switch target {
    case "tokenizer-files": seeds = try tokenizerFileSeeds()
    case "tokenize": seeds = try promptSeeds()
    case "checkpoint": seeds = try checkpointSeeds()
    case "single-file": seeds = try singleFileSeeds()
    default: seeds = [:]
    }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    for (name, bytes) in seeds { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
}

private func fixture(_ path: String) throws -> Data {
    try Data(contentsOf: sharedFolder().appendingPathComponent("fixtures/" + path))
}

/// The fixture tokenizer cut to ids below 512 plus the special tokens, and its first 300 merges:
/// small enough for libFuzzer to mutate, with every file's structure intact.
private func tokenizerFileSeeds() throws -> [String: [UInt8]] {
    let folder = "diffusers-tiny/tokenizer/"
    guard let vocab = try JSONSerialization.jsonObject(with: fixture(folder + "vocab.json")) as? [String: Int] else {
        throw FuzzSetupError(reason: "fixture vocab.json is not an object of ids")
    }
    let kept = vocab.filter { $0.value < 512 || $0.value >= 49406 }
    let vocabBytes = Array(try JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]))
    let merges = String(decoding: try fixture(folder + "merges.txt"), as: UTF8.self)
        .split(separator: "\n", omittingEmptySubsequences: false).prefix(301).joined(separator: "\n")
    let config = Array(try fixture(folder + "tokenizer_config.json"))
    let map = Array(try fixture(folder + "special_tokens_map.json"))
    let join = { (parts: [[UInt8]]) in Array(parts.joined(separator: [0])) }
    return ["all-four": join([vocabBytes, Array(merges.utf8), config, map]),
            "vocab-merges": join([vocabBytes, Array(merges.utf8)]),
            "legacy-map": join([vocabBytes, Array(merges.utf8), Array("{}".utf8), map])]
}

/// Every prompt of the fixture's tokenizer reference cases.
private func promptSeeds() throws -> [String: [UInt8]] {
    guard let reference = try JSONSerialization.jsonObject(with: fixture("diffusers-tiny/reference/tokenizer.json")) as? [String: Any],
          let cases = reference["cases"] as? [[String: Any]] else {
        throw FuzzSetupError(reason: "fixture tokenizer.json has no cases")
    }
    var seeds: [String: [UInt8]] = [:]
    for (index, entry) in cases.enumerated() {
        if let prompt = entry["prompt"] as? String { seeds["prompt-\(index)"] = Array(prompt.utf8) }
    }
    return seeds
}

/// A checkpoint as the training loop writes it (with repeats, mid-epoch), and one in the legacy layout.
private func checkpointSeeds() throws -> [String: [UInt8]] {
    var sampler = BatchSampler(count: 5, seed: 7, repeats: [1, 2, 1, 1, 3])
    _ = sampler.next(4)
    var randomness = TrainingRandomness(seed: 3, decisionSeed: 11)
    _ = try randomness.randn([3])
    var state = TrainingState(sampler: sampler, randomness: randomness, settings: ["loss": "mse", "sampler": "ddpm"])
    state.step = 2
    var current = Checkpoint()
    current.add(section: "unet", ["conv.weight": try Tensor(shape: [2, 1, 1, 1], values: [0.5, -1])])
    current.add(section: "adam", ["step": try Tensor(shape: [1], values: [2])])
    try current.setJSON(TrainingState.metadataKey, state)

    var legacy = Checkpoint()
    legacy.add(section: "vae", ["decoder.bias": try Tensor(shape: [2], values: [1, 2])])
    legacy.metadata = ["step": "2", "flip_state": "99"]
    try legacy.setJSON("sampler", BatchSampler(count: 3, seed: 1))
    try legacy.setJSON("generator", TorchGenerator(seed: 5).state)

    var seeds: [String: [UInt8]] = [:]
    for (name, checkpoint) in [("current", current), ("legacy", legacy)] {
        let url = scratchFolder.appendingPathComponent(name + ".safetensors")
        try checkpoint.write(to: url)
        seeds[name] = Array(try Data(contentsOf: url))
    }
    return seeds
}

/// The headers of the SD 1.x and 2.x fixture checkpoints (the single-file target supplies the data).
private func singleFileSeeds() throws -> [String: [UInt8]] {
    var seeds: [String: [UInt8]] = [:]
    for name in ["sd1", "sd2"] {
        let bytes = try fixture("single-file/\(name).safetensors")
        let length = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard length > 0, 8 + length <= bytes.count else { throw FuzzSetupError(reason: "fixture \(name).safetensors has no header") }
        seeds[name] = Array(bytes[8..<(8 + length)])
    }
    return seeds
}
