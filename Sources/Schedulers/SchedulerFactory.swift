// Builds schedulers by CLI name or by a config's _class_name (diffusers' from_config).

public enum SchedulerFactory {
    /// The CLI names, in the order help texts list them.
    public static let names = ["ddim", "pndm", "euler", "euler-karras", "euler-a", "dpm++2m", "dpm++2m-karras", "lms", "heun", "lcm", "ddpm"]

    /// A scheduler by CLI name, configured from a pipeline's scheduler config the way
    /// diffusers' `Class.from_config(pipe.scheduler.config)` does: the folder's keys (betas,
    /// prediction type, spacing, offset) are kept, the rest take the class's defaults.
    public static func make(name: String, config: SchedulerConfig) throws -> Scheduler {
        switch name {
        case "ddim": return try DDIMScheduler(config: config)
        case "pndm":
            // PNDM's class default runs Runge-Kutta warm-up steps; SD configs skip them.
            let plms = config.explicitKeys.contains("skip_prk_steps") ? config
                : config.setting({ $0.skipPrkSteps = true }, keys: ["skip_prk_steps"])
            return try PNDMScheduler(config: plms)
        case "euler":
            return try EulerDiscreteScheduler(config: config.setting({ $0.useKarrasSigmas = false }, keys: ["use_karras_sigmas"]))
        case "euler-karras":
            return try EulerDiscreteScheduler(config: config.setting({ $0.useKarrasSigmas = true }, keys: ["use_karras_sigmas"]))
        case "euler-a": return try EulerAncestralDiscreteScheduler(config: config)
        case "dpm++2m":
            return try DPMSolverMultistepScheduler(config: config.setting({
                $0.algorithmType = "dpmsolver++"; $0.solverOrder = 2; $0.useKarrasSigmas = false
            }, keys: ["algorithm_type", "solver_order", "use_karras_sigmas"]))
        case "dpm++2m-karras":
            return try DPMSolverMultistepScheduler(config: config.setting({
                $0.algorithmType = "dpmsolver++"; $0.solverOrder = 2; $0.useKarrasSigmas = true
            }, keys: ["algorithm_type", "solver_order", "use_karras_sigmas"]))
        case "lms": return try LMSDiscreteScheduler(config: config)
        case "heun": return try HeunDiscreteScheduler(config: config)
        case "lcm": return try LCMScheduler(config: config)
        case "ddpm": return try DDPMScheduler(config: config)
        default: throw SchedulerError.unknownSchedulerName(name, valid: names)
        }
    }

    /// The scheduler the config's `_class_name` names (a pipeline folder's own scheduler).
    public static func make(config: SchedulerConfig) throws -> Scheduler {
        let valid = SchedulerKind.allCases.map(\.className)
        guard let className = config.className, let kind = SchedulerKind(className: className) else {
            throw SchedulerError.unknownClassName(config.className ?? "<missing>", valid: valid)
        }
        return try make(kind: kind, config: config)
    }

    public static func make(kind: SchedulerKind, config: SchedulerConfig) throws -> Scheduler {
        switch kind {
        case .ddpm: return try DDPMScheduler(config: config)
        case .ddim: return try DDIMScheduler(config: config)
        case .pndm: return try PNDMScheduler(config: config)
        case .euler: return try EulerDiscreteScheduler(config: config)
        case .eulerAncestral: return try EulerAncestralDiscreteScheduler(config: config)
        case .dpmSolverMultistep: return try DPMSolverMultistepScheduler(config: config)
        case .lms: return try LMSDiscreteScheduler(config: config)
        case .heun: return try HeunDiscreteScheduler(config: config)
        case .lcm: return try LCMScheduler(config: config)
        }
    }
}

/// A scheduler by CLI name (`ddim|pndm|euler|euler-karras|euler-a|dpm++2m|dpm++2m-karras|lms|heun|lcm|ddpm`).
public func makeScheduler(name: String, config: SchedulerConfig) throws -> Scheduler {
    try SchedulerFactory.make(name: name, config: config)
}
