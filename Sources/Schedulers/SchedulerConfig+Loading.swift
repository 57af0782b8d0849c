// Reading scheduler configs, and resolving them per class as diffusers' from_config does.
import Foundation
import TensorCore

extension SchedulerConfig {
    /// Reads `scheduler_config.json` from a scheduler folder (or the file itself).
    public static func load(from url: URL) throws -> SchedulerConfig {
        var isDirectory: ObjCBool = false
        var file = url
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            file = url.appendingPathComponent("scheduler_config.json")
        }
        return try ConfigFile.read(SchedulerConfig.self, from: file)
    }

    /// Decodes JSON text; `path` names the source in errors.
    public static func decode(_ data: Data, path: String = "<json>") throws -> SchedulerConfig {
        try ConfigFile.decode(SchedulerConfig.self, from: data, file: path)
    }

    /// This config as diffusers' `Class.from_config(config)` resolves it: keys the file held
    /// are kept, every other key takes the target class's default.
    public func applyingDefaults(of kind: SchedulerKind) -> SchedulerConfig {
        var resolved = SchedulerConfig.defaults(of: kind)
        for field in Self.fields where explicitKeys.contains(field.key) {
            field.copy(from: self, to: &resolved)
        }
        resolved.explicitKeys = explicitKeys
        resolved.className = kind.className
        return resolved
    }

    /// diffusers' `__init__` defaults of one scheduler class.
    public static func defaults(of kind: SchedulerKind) -> SchedulerConfig {
        var c = SchedulerConfig()
        c.className = kind.className
        switch kind {
        case .ddpm, .ddim:
            break
        case .pndm:
            c.setAlphaToOne = false
        case .euler, .eulerAncestral, .lms:
            c.timestepSpacing = .linspace
        case .heun:
            c.timestepSpacing = .linspace
            c.clipSample = false
        case .dpmSolverMultistep:
            c.timestepSpacing = .linspace
            c.varianceType = nil
        case .lcm:
            c.betaStart = 0.00085
            c.betaEnd = 0.012
            c.betaSchedule = .scaledLinear
            c.clipSample = false
        }
        return c
    }

    /// A copy with some keys set as if the file had held them (diffusers' `from_config(**overrides)`).
    public func setting(_ changes: (inout SchedulerConfig) -> Void, keys: [String]) -> SchedulerConfig {
        var copy = self
        changes(&copy)
        copy.explicitKeys.formUnion(keys)
        return copy
    }

    /// A copy with JSON values for some keys, as if the file had held them; each value is
    /// decoded through the field table, so a bad one is a ConfigError naming its key.
    public func overriding(_ values: [String: ConfigValue], source: String = "<overrides>") throws -> SchedulerConfig {
        guard !values.isEmpty else { return self }
        var object = try JSONDecoder().decode([String: ConfigValue].self, from: JSONEncoder().encode(self))
        for (key, value) in values { object[key] = value }
        var result = try ConfigFile.decode(SchedulerConfig.self, from: JSONEncoder().encode(object), file: source)
        result.explicitKeys = explicitKeys.union(values.keys)
        return result
    }
}
