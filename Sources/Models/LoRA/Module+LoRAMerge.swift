// Merges LoRA deltas into a model's weights: W += scale · (alpha / rank) · up · down.
import NN
import TensorCore

extension Module {
    /// The module paths whose `.weight` a LoRA can change (linears and 1×1 convolutions),
    /// by dotted path, with the underscore spelling kohya files use.
    func loraTargets() -> (byPath: [String: Parameter], byKohyaName: [String: String]) {
        var byPath: [String: Parameter] = [:], byKohya: [String: String] = [:]
        for (key, parameter) in namedParameters() where key.hasSuffix(".weight") {
            let shape = parameter.shape
            guard shape.count == 2 || (shape.count == 4 && shape[2] == 1 && shape[3] == 1) else { continue }
            let path = String(key.dropLast(".weight".count))
            byPath[path] = parameter
            byKohya[path.replacingOccurrences(of: ".", with: "_")] = path
        }
        return (byPath, byKohya)
    }

    /// Checks that every adapter finds its module with the right shape; the error names the file's key.
    /// `aliases`: more kohya module names → dotted paths (a U-Net's LDM names, `ldmLoRANames()`).
    public func checkLoRA(_ adapters: [LoRAAdapter], format: LoRAFile.Format, path: String,
                          aliases: [String: String] = [:]) throws {
        _ = try resolveLoRA(adapters, format: format, path: path, aliases: aliases)
    }

    /// Adds each adapter's delta to the weight it names. Every adapter must find its module
    /// with the right shape, or nothing is changed and the error names the file's key.
    public func mergeLoRA(_ adapters: [LoRAAdapter], scale: Float, format: LoRAFile.Format, path: String,
                          aliases: [String: String] = [:]) throws {
        let resolved = try resolveLoRA(adapters, format: format, path: path, aliases: aliases)
        try Autograd.withoutGrad {
            for (adapter, weight) in resolved {
                let rank = adapter.rank
                let down = adapter.down.reshaped([rank, adapter.down.count / rank])   // [r, in]
                let up = adapter.up.reshaped([adapter.up.shape[0], rank])              // [out, r]
                let delta = Tensor.matmul(up, down)                                    // [out, in]
                let factor = scale * adapter.alpha / Float(rank)
                // A weight stored in bf16 is merged in float32 and rounded once.
                let merged = weight.value.float32Values()
                let target = merged.pointer, source = delta.pointer
                for i in 0..<delta.count { target[i] += factor * source[i] }
                if weight.value.isBFloat16 { try weight.assign(merged) }
            }
        }
    }

    private func resolveLoRA(_ adapters: [LoRAAdapter], format: LoRAFile.Format, path: String,
                             aliases: [String: String]) throws -> [(LoRAAdapter, Parameter)] {
        let targets = loraTargets()
        return try adapters.map { adapter in
            let modulePath = format == .kohya ? targets.byKohyaName[adapter.module] ?? aliases[adapter.module] : adapter.module
            guard let modulePath, let weight = targets.byPath[modulePath] else {
                throw LoRAError(path: path, reason: "key \(adapter.fileKey) names no linear layer of the \(adapter.component.rawValue) (\(adapter.module))")
            }
            guard adapter.up.shape[0] == weight.shape[0], adapter.down.shape[1] == weight.shape[1],
                  adapter.down.rank == weight.shape.count else {
                throw LoRAError(path: path, reason: "key \(adapter.fileKey) has down \(adapter.down.shape) and up \(adapter.up.shape), but \(adapter.component.rawValue) weight \(modulePath).weight is \(weight.shape)")
            }
            return (adapter, weight)
        }
    }
}
