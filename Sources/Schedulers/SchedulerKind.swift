// The scheduler classes this module implements, by diffusers class name and CLI name.

public enum SchedulerKind: String, CaseIterable {
    case ddpm, ddim, pndm, euler, eulerAncestral, dpmSolverMultistep, lms, heun, lcm

    /// The diffusers class each kind matches (`_class_name` in scheduler_config.json).
    public var className: String {
        switch self {
        case .ddpm: return "DDPMScheduler"
        case .ddim: return "DDIMScheduler"
        case .pndm: return "PNDMScheduler"
        case .euler: return "EulerDiscreteScheduler"
        case .eulerAncestral: return "EulerAncestralDiscreteScheduler"
        case .dpmSolverMultistep: return "DPMSolverMultistepScheduler"
        case .lms: return "LMSDiscreteScheduler"
        case .heun: return "HeunDiscreteScheduler"
        case .lcm: return "LCMScheduler"
        }
    }

    public init?(className: String) {
        guard let kind = SchedulerKind.allCases.first(where: { $0.className == className }) else { return nil }
        self = kind
    }
}
