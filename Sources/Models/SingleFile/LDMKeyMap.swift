// Names of one model component in an original-LDM single file ↔ its diffusers names, both ways.
import Foundation

/// How a diffusers tensor is stored in the LDM file.
public enum LDMTransform: Equatable, Sendable {
    /// The same shape and bytes.
    case same
    /// LDM stores a 1×1 convolution [O, I, 1, 1] where diffusers has a linear [O, I] (same bytes).
    case squeezed
    /// Rows part·n..<(part+1)·n of LDM's fused q/k/v tensor [3n, …] (OpenCLIP's in_proj).
    case third(Int)

    /// The LDM tensor's shape for a diffusers tensor of `shape`.
    public func ldmShape(_ shape: [Int]) -> [Int] {
        switch self {
        case .same: return shape
        case .squeezed: return shape + [1, 1]
        case .third: return shape.isEmpty ? shape : [3 * shape[0]] + shape.dropFirst()
        }
    }

    /// The diffusers tensor's shape for an LDM tensor of `shape` (nil when it cannot be one).
    public func diffusersShape(_ shape: [Int]) -> [Int]? {
        switch self {
        case .same: return shape
        case .squeezed: return shape.count == 4 && shape[2] == 1 && shape[3] == 1 ? Array(shape.prefix(2)) : nil
        case .third: return shape.first.map { $0 % 3 == 0 ? [$0 / 3] + shape.dropFirst() : nil } ?? nil
        }
    }
}

/// One component's naming rules: a table of (diffusers prefix ↔ LDM prefix, part kind) pairs,
/// built from the component's structure, then renames inside each part. The same table maps
/// keys in both directions, so loading, converting and checking share one definition.
public struct LDMKeyMap {
    /// What kind of layer a prefix holds, which decides the renames after it.
    public enum Part: Sendable { case plain, unetResnet, vaeResnet, vaeAttention, openCLIPLayer }

    struct Rule {
        let diffusers: String
        let ldm: String
        let part: Part
    }

    /// The diffusers component this map names (`unet`, `vae`, `text_encoder`).
    public let component: String
    /// Prefix of every LDM key of the component (`model.diffusion_model.`).
    public let ldmPrefix: String
    let rules: [Rule]

    /// A rule prefix ending in "." matches keys under it; otherwise it names one key exactly.
    private static func matches(_ key: String, _ prefix: String) -> Bool {
        prefix.hasSuffix(".") ? key.hasPrefix(prefix) : key == prefix
    }

    /// The LDM key (with `ldmPrefix`) and storage of diffusers key `key`, or nil when no rule names it.
    public func ldm(forDiffusers key: String) -> (key: String, transform: LDMTransform)? {
        guard let rule = rules.filter({ Self.matches(key, $0.diffusers) }).max(by: { $0.diffusers.count < $1.diffusers.count }) else {
            return nil
        }
        let rest = String(key.dropFirst(rule.diffusers.count))
        for rename in Self.renames(rule.part) where Self.matches(rest, rename.diffusers) {
            return (ldmPrefix + rule.ldm + rename.ldm + rest.dropFirst(rename.diffusers.count), rename.transform)
        }
        return (ldmPrefix + rule.ldm + rest, .same)
    }

    /// The diffusers keys stored in LDM key `key` (with `ldmPrefix`): one, or three for a fused
    /// q/k/v tensor; nil when the key is not this component's or no rule names it.
    public func diffusers(forLDM key: String) -> [(key: String, transform: LDMTransform)]? {
        guard key.hasPrefix(ldmPrefix) else { return nil }
        let local = String(key.dropFirst(ldmPrefix.count))
        guard let rule = rules.filter({ Self.matches(local, $0.ldm) }).max(by: { $0.ldm.count < $1.ldm.count }) else {
            return nil
        }
        let rest = String(local.dropFirst(rule.ldm.count))
        let found = Self.renames(rule.part).filter { Self.matches(rest, $0.ldm) }
        if found.isEmpty { return [(rule.diffusers + rest, .same)] }
        return found.map { (rule.diffusers + $0.diffusers + rest.dropFirst($0.ldm.count), $0.transform) }
    }
}
