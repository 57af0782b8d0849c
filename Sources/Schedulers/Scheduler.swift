// The common interface of all noise schedulers (diffusers' SchedulerMixin surface), on tensors.
import TensorCore

/// The result of one `step`: the sample at the next (less noisy) timestep and, for the
/// schedulers that report it, the predicted clean sample x0 (LCM: its `denoised`).
public struct SchedulerStep {
    /// [N, C, H, W], the shape of the sample stepped.
    public var prevSample: Tensor
    public var predOriginalSample: Tensor?

    public init(prevSample: Tensor, predOriginalSample: Tensor?) {
        self.prevSample = prevSample
        self.predOriginalSample = predOriginalSample
    }
}

/// A noise scheduler over sample tensors of any shape (every operation is elementwise with
/// per-step scalars, so batch and layout are the caller's).
public protocol Scheduler {
    /// Builds the scheduler from a config resolved with this class's defaults.
    init(config: SchedulerConfig) throws
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
    func scaleModelInput(_ sample: Tensor, timestep: Double) throws -> Tensor
    /// One denoising step from `sample` at `timestep` given the model's output (same shape).
    /// `noise` supplies N(0, 1) draws when the step needs them (DDPM, DDIM with eta > 0,
    /// Euler ancestral, LCM), in the order diffusers draws them.
    mutating func step(modelOutput: Tensor, timestep: Double, sample: Tensor, noise: NoiseSource) throws -> SchedulerStep
    /// The forward process: `original` noised to `timestep` with `noise` (same shape).
    func addNoise(original: Tensor, noise: Tensor, timestep: Double) throws -> Tensor
}

extension Scheduler {
    /// diffusers' `get_velocity` (the v-prediction target) at training timestep `timestep`.
    public func velocity(sample: Tensor, noise: Tensor, timestep: Double) throws -> Tensor {
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

    /// Checks a step's operands: the model output must have the sample's shape.
    func checkStep(modelOutput: Tensor, sample: Tensor, scheduler: String) throws {
        try checkSameShape(sample, modelOutput, scheduler: scheduler, what: "model output")
    }
}
