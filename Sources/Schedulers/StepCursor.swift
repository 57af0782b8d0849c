// The step index that diffusers' sigma-based and multistep schedulers keep between calls.

/// diffusers' `_step_index` / `_begin_index`: the position in the schedule, found from the
/// first timestep seen (or the begin index set by img2img) and advanced by each step.
struct StepCursor {
    var stepIndex: Int?
    var beginIndex: Int?

    mutating func reset() {
        stepIndex = nil
        beginIndex = nil
    }

    /// `index_for_timestep`: the position of `timestep` in the schedule, taking the second
    /// match when it occurs twice (so img2img starting mid-schedule does not skip a sigma).
    /// `missingIsLast`: DPM-Solver maps an unknown timestep to the last entry.
    static func index(of timestep: Double, in timesteps: [Double], scheduler: String, missingIsLast: Bool = false) throws -> Int {
        let matches = timesteps.indices.filter { timesteps[$0] == timestep }
        if matches.isEmpty {
            if missingIsLast, !timesteps.isEmpty { return timesteps.count - 1 }
            throw SchedulerError.timestepNotInSchedule(scheduler: scheduler, timestep: timestep)
        }
        return matches.count > 1 ? matches[1] : matches[0]
    }

    /// The current index without changing state (what `_init_step_index` would pick).
    func current(for timestep: Double, in timesteps: [Double], scheduler: String, missingIsLast: Bool = false) throws -> Int {
        if let stepIndex { return stepIndex }
        if let beginIndex { return beginIndex }
        return try StepCursor.index(of: timestep, in: timesteps, scheduler: scheduler, missingIsLast: missingIsLast)
    }

    mutating func begin(for timestep: Double, in timesteps: [Double], scheduler: String, missingIsLast: Bool = false) throws -> Int {
        let index = try current(for: timestep, in: timesteps, scheduler: scheduler, missingIsLast: missingIsLast)
        stepIndex = index
        return index
    }
}
