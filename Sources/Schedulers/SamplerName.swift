// The sampler names of the command line, each a scheduler class plus config overrides.
import TensorCore

/// A sampler by CLI name. Each maps to a scheduler class and the config keys it forces,
/// applied over the pipeline folder's config as diffusers' `Class.from_config(config, **overrides)`
/// does: the folder's betas, prediction type, spacing and offset are kept. The cases are in the
/// order people meet them (`--help`, the studio's list): the samplers that need few steps first.
public enum SamplerName: String, CaseIterable {
    case euler
    case eulerKarras = "euler-karras"
    case eulerAncestral = "euler-a"
    case dpmpp2m = "dpm++2m"
    case dpmpp2mKarras = "dpm++2m-karras"
    case dpmpp2mSDE = "dpm++2m-sde"
    case dpmpp2mSDEKarras = "dpm++2m-sde-karras"
    case ddim, pndm, lms, heun, lcm, ddpm

    /// The table: (class, keys forced, keys defaulted only when the folder lacks them).
    var recipe: (kind: SchedulerKind, overrides: [String: ConfigValue], fallbacks: [String: ConfigValue]) {
        let dpmpp2m: [String: ConfigValue] = ["algorithm_type": .string("dpmsolver++"), "solver_order": .number(2)]
        let dpmpp2mSDE = dpmpp2m.merging(["algorithm_type": .string("sde-dpmsolver++")]) { $1 }
        switch self {
        case .ddim: return (.ddim, [:], [:])
        // PNDM's class default runs Runge-Kutta warm-up steps; SD configs skip them.
        case .pndm: return (.pndm, [:], ["skip_prk_steps": .bool(true)])
        case .euler: return (.euler, ["use_karras_sigmas": .bool(false)], [:])
        case .eulerKarras: return (.euler, ["use_karras_sigmas": .bool(true)], [:])
        case .eulerAncestral: return (.eulerAncestral, [:], [:])
        case .dpmpp2m: return (.dpmSolverMultistep, dpmpp2m.merging(["use_karras_sigmas": .bool(false)]) { $1 }, [:])
        case .dpmpp2mKarras: return (.dpmSolverMultistep, dpmpp2m.merging(["use_karras_sigmas": .bool(true)]) { $1 }, [:])
        case .dpmpp2mSDE: return (.dpmSolverMultistep, dpmpp2mSDE.merging(["use_karras_sigmas": .bool(false)]) { $1 }, [:])
        case .dpmpp2mSDEKarras: return (.dpmSolverMultistep, dpmpp2mSDE.merging(["use_karras_sigmas": .bool(true)]) { $1 }, [:])
        case .lms: return (.lms, [:], [:])
        case .heun: return (.heun, [:], [:])
        case .lcm: return (.lcm, [:], [:])
        case .ddpm: return (.ddpm, [:], [:])
        }
    }

    /// The scheduler class this name builds.
    public var kind: SchedulerKind { recipe.kind }

    /// The sampler, configured from a pipeline's scheduler config.
    public func make(config: SchedulerConfig) throws -> Scheduler {
        let (kind, overrides, fallbacks) = recipe
        let defaults = fallbacks.filter { !config.explicitKeys.contains($0.key) }
        let resolved = try config.overriding(overrides.merging(defaults) { $1 }, source: "<\(rawValue) overrides>")
        return try kind.make(config: resolved)
    }
}

/// A scheduler by CLI name (`ddim|pndm|euler|euler-karras|euler-a|dpm++2m|dpm++2m-karras|dpm++2m-sde|dpm++2m-sde-karras|lms|heun|lcm|ddpm`).
public func makeScheduler(name: String, config: SchedulerConfig) throws -> Scheduler {
    guard let sampler = SamplerName(rawValue: name) else {
        throw SchedulerError.unknownSchedulerName(name, valid: SamplerName.allCases.map(\.rawValue))
    }
    return try sampler.make(config: config)
}

/// The scheduler a config's `_class_name` names (a pipeline folder's own scheduler).
public func makeScheduler(config: SchedulerConfig) throws -> Scheduler {
    try SchedulerKind.make(config: config)
}
