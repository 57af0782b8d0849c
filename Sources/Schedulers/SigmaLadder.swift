// The sigma ladder the Karras-style samplers share: config, noise schedule, tables, step cursor, input scaling, add_noise.
import Foundation
import TensorCore

/// Timesteps and their sigmas (one more, ending at the final sigma), diffusers' step and
/// begin indices, the model-input scaling x/√(σ²+1), `add_noise` and the initial noise
/// sigma: everything Euler, Euler ancestral, Heun, LMS and DPM-Solver++ share. Each of
/// them owns one ladder and adds only its own `step`.
public struct SigmaLadder {
    /// The scheduler's config, resolved with its class's defaults, and the training noise
    /// schedule built from it: what the ladder's tables come from.
    public let config: SchedulerConfig
    public let noiseSchedule: NoiseSchedule
    public let spacing: SigmaSpacing
    public private(set) var timesteps: [Double]
    public private(set) var sigmas: [Float]
    public private(set) var initNoiseSigma: Float
    /// diffusers' `_step_index`: the entry the next step works on.
    public private(set) var stepIndex: Int?
    /// diffusers' `_begin_index`: where img2img starts the loop.
    public private(set) var beginIndex: Int?
    /// Whether `set` has run (DPM-Solver refuses to step before).
    public private(set) var isSet = false
    let timestepSpacing: TimestepSpacing
    let scheduler: String
    /// DPM-Solver maps a timestep not in the table to the last entry instead of failing.
    let missingIsLast: Bool

    /// The ladder of a resolved config: its noise schedule and its sigma spacing (or `spacing`,
    /// for a class that has no spacing options), over the full training range, as diffusers'
    /// `__init__` leaves it before `set_timesteps`.
    init(config: SchedulerConfig, scheduler: String, spacing: SigmaSpacing? = nil, missingIsLast: Bool = false) throws {
        self.config = config
        noiseSchedule = try NoiseSchedule(config: config, scheduler: scheduler)
        self.spacing = try spacing ?? SigmaSpacing(config: config, scheduler: scheduler)
        timestepSpacing = config.timestepSpacing
        self.scheduler = scheduler
        self.missingIsLast = missingIsLast
        sigmas = noiseSchedule.trainingSigmas.reversed() + [0]
        timesteps = (0..<noiseSchedule.alphasCumprod.count).reversed().map(Double.init)
        initNoiseSigma = Self.initNoiseSigma(sigmas, spacing: timestepSpacing)
    }

    /// Installs a new table and resets the cursor.
    mutating func set(timesteps: [Double], sigmas: [Float]) {
        self.timesteps = timesteps
        self.sigmas = sigmas
        initNoiseSigma = Self.initNoiseSigma(sigmas, spacing: timestepSpacing)
        stepIndex = nil
        beginIndex = nil
        isSet = true
    }

    /// init_noise_sigma: max sigma for linspace/trailing spacing, √(max² + 1) for leading.
    static func initNoiseSigma(_ sigmas: [Float], spacing: TimestepSpacing) -> Float {
        let maxSigma = sigmas.max() ?? 1
        return spacing == .leading ? (maxSigma * maxSigma + 1).squareRoot() : maxSigma
    }

    /// Timesteps (float32 values) and sigmas (float64, before the final sigma is appended)
    /// of `count` steps as Euler/LMS/Heun's `set_timesteps` build them. `bounds` are the
    /// config's sigma_min/sigma_max where the class has them; `logLinear` is Euler's interpolation_type.
    func tables(count: Int, bounds: (min: Double?, max: Double?) = (nil, nil),
                logLinear: Bool = false) throws -> (timesteps: [Double], sigmas: [Double]) {
        var timesteps = try TimestepSpacing.timesteps(count: count, config: config, scheduler: scheduler, roundLinspace: false)
        let trainSigmas = noiseSchedule.trainingSigmas
        var sigmas: [Double]
        if logLinear {
            // diffusers spans the full training range here, descending, count + 1 values.
            let logMax = Double(Foundation.log(trainSigmas[trainSigmas.count - 1]))
            let logMin = Double(Foundation.log(trainSigmas[0]))
            sigmas = NumpyCompat.torchLinspaceFloat(logMax, logMin, count + 1).map { Double(Foundation.exp($0)) }
        } else {
            sigmas = timesteps.map { NumpyCompat.interp($0, table: trainSigmas) }
        }
        if let ramp = spacing.ramp(sigmaMin: bounds.min ?? sigmas[sigmas.count - 1], sigmaMax: bounds.max ?? sigmas[0], count: count) {
            let logSigmas = trainSigmas.map { Foundation.log($0) }
            sigmas = ramp
            timesteps = ramp.map { Double(Float(NumpyCompat.sigmaToT($0, logSigmas: logSigmas))) }
        }
        return (timesteps, sigmas)
    }

    /// `set_timesteps` of the classes that end at sigma 0 (Euler ancestral, LMS): the tables
    /// of `count` steps, installed.
    mutating func setTimesteps(_ count: Int) throws {
        let tables = try tables(count: count)
        set(timesteps: tables.timesteps, sigmas: (tables.sigmas + [0]).map { Float($0) })
    }

    /// The sigma appended after the last step: 0, or the smallest training sigma.
    var finalSigma: Double {
        guard config.finalSigmasType == "sigma_min", let acp0 = noiseSchedule.alphasCumprod.first else { return 0 }
        return Double(((1 - acp0) / acp0).squareRoot())
    }

    // MARK: The cursor

    mutating func setBeginIndex(_ index: Int) { beginIndex = index }

    /// `index_for_timestep`: the position of `timestep`, taking the second match when it
    /// occurs twice (so img2img starting mid-schedule does not skip a sigma).
    func index(of timestep: Double) throws -> Int {
        let matches = timesteps.indices.filter { timesteps[$0] == timestep }
        if matches.isEmpty {
            if missingIsLast, !timesteps.isEmpty { return timesteps.count - 1 }
            throw SchedulerError.timestepNotInSchedule(scheduler: scheduler, timestep: timestep)
        }
        return matches.count > 1 ? matches[1] : matches[0]
    }

    /// The current index without changing state (what `_init_step_index` would pick).
    func currentIndex(for timestep: Double) throws -> Int {
        if let stepIndex { return stepIndex }
        if let beginIndex { return beginIndex }
        return try index(of: timestep)
    }

    /// Starts a step at `timestep`: fixes the step index and returns it.
    mutating func begin(at timestep: Double) throws -> Int {
        let index = try currentIndex(for: timestep)
        stepIndex = index
        return index
    }

    /// Ends a step: the next one works on the following entry.
    mutating func advance() { stepIndex = (stepIndex ?? 0) + 1 }

    func sigma(at index: Int) throws -> Float {
        guard index >= 0, index < sigmas.count else {
            throw SchedulerError.stepIndexOutOfRange(scheduler: scheduler, index: index, count: sigmas.count)
        }
        return sigmas[index]
    }

    // MARK: Tensors

    /// sample / √(σ² + 1), the model input at `timestep` ([N, C, H, W]).
    public func scaleModelInput(_ sample: Tensor, timestep: Double) throws -> Tensor {
        let sigma = try sigma(at: try currentIndex(for: timestep))
        return sample / (sigma * sigma + 1).squareRoot()
    }

    /// The sigma `add_noise` uses: at the timestep's index, or at the current/begin index
    /// once img2img has set a begin index.
    func addNoiseSigma(timestep: Double) throws -> Float {
        let index = beginIndex == nil ? try index(of: timestep) : (stepIndex ?? beginIndex ?? 0)
        return try sigma(at: index)
    }

    /// original + σ(t)·noise, the variance-exploding forward process ([N, C, H, W]).
    public func addNoise(original: Tensor, noise: Tensor, timestep: Double) throws -> Tensor {
        try checkSameShape(original, noise, scheduler: scheduler)
        return original + noise * (try addNoiseSigma(timestep: timestep))
    }
}

/// A scheduler that walks a sigma ladder: the ladder answers everything but `step`.
public protocol SigmaScheduler: Scheduler {
    var ladder: SigmaLadder { get set }
}

extension SigmaScheduler {
    /// The diffusers class name, for errors.
    static var name: String { "\(Self.self)" }
    /// One model call per step (Heun takes two).
    public var order: Int { 1 }
    public var config: SchedulerConfig { ladder.config }
    public var noiseSchedule: NoiseSchedule { ladder.noiseSchedule }
    public var timesteps: [Double] { ladder.timesteps }
    public var sigmas: [Float]? { ladder.sigmas }
    public var initNoiseSigma: Float { ladder.initNoiseSigma }
    public mutating func setBeginIndex(_ index: Int) { ladder.setBeginIndex(index) }

    public func scaleModelInput(_ sample: Tensor, timestep: Double) throws -> Tensor {
        try ladder.scaleModelInput(sample, timestep: timestep)
    }

    public func addNoise(original: Tensor, noise: Tensor, timestep: Double) throws -> Tensor {
        try ladder.addNoise(original: original, noise: noise, timestep: timestep)
    }
}
