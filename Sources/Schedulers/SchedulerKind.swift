// The scheduler classes this module implements, by diffusers class name.

public enum SchedulerKind: String, CaseIterable {
    case ddpm, ddim, pndm, euler, eulerAncestral, dpmSolverMultistep, lms, heun, lcm

    /// The Swift type of each kind; its name is the diffusers class (`_class_name`).
    public var schedulerType: Scheduler.Type {
        switch self {
        case .ddpm: return DDPMScheduler.self
        case .ddim: return DDIMScheduler.self
        case .pndm: return PNDMScheduler.self
        case .euler: return EulerDiscreteScheduler.self
        case .eulerAncestral: return EulerAncestralDiscreteScheduler.self
        case .dpmSolverMultistep: return DPMSolverMultistepScheduler.self
        case .lms: return LMSDiscreteScheduler.self
        case .heun: return HeunDiscreteScheduler.self
        case .lcm: return LCMScheduler.self
        }
    }

    /// The diffusers class name (`_class_name` in scheduler_config.json).
    public var className: String { String(describing: schedulerType) }

    public init?(className: String) {
        guard let kind = SchedulerKind.allCases.first(where: { $0.className == className }) else { return nil }
        self = kind
    }

    /// A scheduler of this class, configured from `config` as diffusers' `from_config` does.
    public func make(config: SchedulerConfig) throws -> Scheduler {
        try schedulerType.init(config: config)
    }

    /// The scheduler the config's `_class_name` names (a pipeline folder's own scheduler).
    public static func make(config: SchedulerConfig) throws -> Scheduler {
        guard let className = config.className, let kind = SchedulerKind(className: className) else {
            throw SchedulerError.unknownClassName(config.className ?? "<missing>", valid: allCases.map(\.className))
        }
        return try kind.make(config: config)
    }
}
