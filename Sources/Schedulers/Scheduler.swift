// The common interface of all noise schedulers (diffusers' SchedulerMixin surface).

/// The result of one `step`: the sample at the next (less noisy) timestep and, for the
/// schedulers that report it, the predicted clean sample x0 (LCM: its `denoised`).
public struct SchedulerStep {
    public var prevSample: [Float]
    public var predOriginalSample: [Float]?

    public init(prevSample: [Float], predOriginalSample: [Float]?) {
        self.prevSample = prevSample
        self.predOriginalSample = predOriginalSample
    }
}

/// A noise scheduler working on flat float32 sample arrays (any shape, any batch: the
/// caller flattens its tensors; every operation is elementwise with per-step scalars).
public protocol Scheduler {
    /// The resolved configuration (the class's defaults filled in).
    var config: SchedulerConfig { get }
    /// The timesteps of the denoising loop after `setTimesteps`, one model call each.
    /// Integer-valued for DDPM, DDIM, PNDM, LCM and DPM-Solver; may be fractional for the
    /// sigma-based Euler, Euler ancestral, LMS and Heun.
    var timesteps: [Double] { get }
    /// The noise levels of the loop for sigma-based schedulers (one more than there are
    /// steps, ending at the final sigma); nil for the others.
    var sigmas: [Float]? { get }
    /// The standard deviation of the initial noise: x_T = N(0, 1) * initNoiseSigma.
    var initNoiseSigma: Float { get }
    /// Model calls per solver step (Heun: 2); img2img skips `t_start * order` entries.
    var order: Int { get }
    /// The training noise schedule (betas, alphas_cumprod) the scheduler was built from.
    var noiseSchedule: NoiseSchedule { get }

    mutating func setTimesteps(_ count: Int) throws
    /// Tells the scheduler the loop starts at `timesteps[index]` (diffusers' `set_begin_index`,
    /// used by img2img); schedulers that track no step index ignore it.
    mutating func setBeginIndex(_ index: Int)
    /// The model input for `sample` at `timestep` (divides by sqrt(sigma^2 + 1) for the
    /// sigma-based schedulers, identity for the others).
    func scaleModelInput(_ sample: [Float], timestep: Double) throws -> [Float]
    /// One denoising step from `sample` at `timestep` given the model's output.
    /// `noise` supplies N(0, 1) draws when the step needs them (DDPM, DDIM with eta > 0,
    /// Euler ancestral, LCM), in the order diffusers draws them.
    mutating func step(modelOutput: [Float], timestep: Double, sample: [Float], noise: NoiseSource) throws -> SchedulerStep
    /// The forward process: `original` noised to `timestep` with the given `noise`.
    func addNoise(original: [Float], noise: [Float], timestep: Double) throws -> [Float]
}

extension Scheduler {
    /// diffusers' `get_velocity` (the v-prediction target) at training timestep `timestep`:
    /// sqrt(acp[t]) * noise - sqrt(1 - acp[t]) * sample.
    public func velocity(sample: [Float], noise: [Float], timestep: Double) throws -> [Float] {
        try noiseSchedule.velocity(sample: sample, noise: noise, timestep: timestep, scheduler: config.className ?? "Scheduler")
    }

    /// diffusers img2img's `get_timesteps`: after `setTimesteps(count)`, the loop runs over
    /// `timesteps[tStart * order...]` with tStart = count - min(Int(count * strength), count);
    /// the begin index is set accordingly. Returns the remaining timesteps (the first is the
    /// timestep to `addNoise` the init latents to).
    public mutating func timestepsForStrength(_ strength: Double, count: Int) -> [Double] {
        let initTimestep = min(Int(Double(count) * strength), count)
        let tStart = max(count - initTimestep, 0)
        let begin = min(tStart * order, timesteps.count)
        setBeginIndex(begin)
        return Array(timesteps[begin...])
    }
}
