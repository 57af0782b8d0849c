// A LoRA file read into adapters: diffusers/PEFT (`unet.<module>.lora_A.weight`) or kohya/A1111
// (`lora_unet_<module_with_underscores>.lora_down.weight`, `.alpha`) names.
import Foundation
import TensorCore

/// Which model of the pipeline an adapter belongs to.
public enum LoRAComponent: String, Sendable {
    case unet
    case textEncoder = "text_encoder"
}

/// One low-rank delta on a weight: W += scale · (alpha / rank) · up · down.
public struct LoRAAdapter {
    public var component: LoRAComponent
    /// The module path: dotted (`down_blocks.0…to_q`) or, for kohya files, with underscores.
    public var module: String
    /// The key prefix in the file, for error messages.
    public var fileKey: String
    public var down: Tensor   // A: [rank, in] (or [rank, in, 1, 1])
    public var up: Tensor     // B: [out, rank] (or [out, rank, 1, 1])
    public var alpha: Float

    public var rank: Int { down.shape[0] }
    public var parameterCount: Int { down.count + up.count }
}

public struct LoRAFile {
    public enum Format: String, Sendable {
        case diffusers = "diffusers/PEFT"
        case kohya = "kohya/A1111"
    }

    public let path: String
    public let format: Format
    public let adapters: [LoRAAdapter]

    public var parameterCount: Int { adapters.reduce(0) { $0 + $1.parameterCount } }
    public var ranks: Set<Int> { Set(adapters.map(\.rank)) }
    public var alphas: Set<Float> { Set(adapters.map(\.alpha)) }

    public init(contentsOf url: URL) throws {
        let file = try SafetensorsFile(contentsOf: url)
        try self.init(file: file)
    }

    public init(file: SafetensorsFile) throws {
        path = file.path
        let names = file.names
        guard !names.isEmpty else { throw LoRAError(path: path, reason: "holds no tensors") }
        if names.allSatisfy({ $0.hasPrefix("lora_unet_") || $0.hasPrefix("lora_te_") }) {
            format = .kohya
            adapters = try Self.readKohya(file)
        } else if names.allSatisfy({ $0.hasPrefix("unet.") || $0.hasPrefix("text_encoder.") }) {
            format = .diffusers
            adapters = try Self.readDiffusers(file)
        } else {
            let odd = names.first { !($0.hasPrefix("unet.") || $0.hasPrefix("text_encoder.") || $0.hasPrefix("lora_unet_") || $0.hasPrefix("lora_te_")) } ?? names[0]
            throw LoRAError(path: path, reason: "key \(odd) is neither diffusers/PEFT (unet.…, text_encoder.…) nor kohya (lora_unet_…, lora_te_…) LoRA naming (SDXL's lora_te1_/lora_te2_ are not supported)")
        }
    }

    /// Groups `prefix.SUFFIX` keys by prefix, for the given down/up/alpha suffixes.
    private static func group(_ file: SafetensorsFile, down: [String], up: [String], alpha: String)
        throws -> [(prefix: String, down: String, up: String, alpha: String?)] {
        var downs: [String: String] = [:], ups: [String: String] = [:], alphas: [String: String] = [:]
        for name in file.names {
            if let suffix = down.first(where: { name.hasSuffix("." + $0) }) {
                downs[String(name.dropLast(suffix.count + 1))] = name
            } else if let suffix = up.first(where: { name.hasSuffix("." + $0) }) {
                ups[String(name.dropLast(suffix.count + 1))] = name
            } else if name.hasSuffix("." + alpha) {
                alphas[String(name.dropLast(alpha.count + 1))] = name
            } else {
                throw LoRAError(path: file.path, reason: "key \(name) is not a LoRA matrix (\((down + up + [alpha]).joined(separator: ", "))); DoRA and other adapter kinds are not supported")
            }
        }
        for prefix in Set(ups.keys).union(alphas.keys) where downs[prefix] == nil {
            throw LoRAError(path: file.path, reason: "key \(ups[prefix] ?? alphas[prefix] ?? prefix) has no matching \(down[0]) matrix")
        }
        return try downs.keys.sorted().map { prefix in
            guard let upKey = ups[prefix] else {
                throw LoRAError(path: file.path, reason: "key \(downs[prefix] ?? prefix) has no matching \(up[0]) matrix")
            }
            return (prefix, downs[prefix] ?? prefix, upKey, alphas[prefix])
        }
    }

    private static func matrices(_ file: SafetensorsFile, down: String, up: String) throws -> (Tensor, Tensor) {
        let a = try Tensor(shape: file.shape(down), values: file.floats(down))
        let b = try Tensor(shape: file.shape(up), values: file.floats(up))
        guard a.rank == 2 || (a.rank == 4 && a.shape[2] == 1 && a.shape[3] == 1),
              b.rank == a.rank, b.shape[1] == a.shape[0], a.shape[0] > 0,
              a.rank == 2 || (b.shape[2] == 1 && b.shape[3] == 1) else {
            throw LoRAError(path: file.path, reason: "key \(down) has shape \(a.shape) and \(up) has shape \(b.shape): expected [rank, in] and [out, rank] (or 1×1 convolutions)")
        }
        return (a, b)
    }

    private static func scalar(_ file: SafetensorsFile, _ key: String) throws -> Float {
        let values = try file.floats(key)
        guard values.count == 1, let value = values.first, value.isFinite else {
            throw LoRAError(path: file.path, reason: "key \(key) must be one finite number, has \(values.count) values")
        }
        return value
    }

    private static func readKohya(_ file: SafetensorsFile) throws -> [LoRAAdapter] {
        try group(file, down: ["lora_down.weight"], up: ["lora_up.weight"], alpha: "alpha").map { entry in
            let (a, b) = try matrices(file, down: entry.down, up: entry.up)
            let unet = entry.prefix.hasPrefix("lora_unet_")
            let module = String(entry.prefix.dropFirst(unet ? "lora_unet_".count : "lora_te_".count))
            // No alpha means alpha = rank (a delta of exactly up · down), as kohya and diffusers read it.
            let alpha = try entry.alpha.map { try scalar(file, $0) } ?? Float(a.shape[0])
            return LoRAAdapter(component: unet ? .unet : .textEncoder, module: module, fileKey: entry.prefix,
                               down: a, up: b, alpha: alpha)
        }
    }

    private static func readDiffusers(_ file: SafetensorsFile) throws -> [LoRAAdapter] {
        let metadata = try LoRAMetadata(file: file)
        return try group(file, down: ["lora_A.weight", "lora.down.weight"], up: ["lora_B.weight", "lora.up.weight"], alpha: "alpha").map { entry in
            let (a, b) = try matrices(file, down: entry.down, up: entry.up)
            let unet = entry.prefix.hasPrefix("unet.")
            let component: LoRAComponent = unet ? .unet : .textEncoder
            let module = String(entry.prefix.dropFirst(unet ? "unet.".count : "text_encoder.".count))
            let alpha = try entry.alpha.map { try scalar(file, $0) }
                ?? metadata.alpha(component: component, module: module) ?? Float(a.shape[0])
            return LoRAAdapter(component: component, module: module, fileKey: entry.prefix, down: a, up: b, alpha: alpha)
        }
    }
}
