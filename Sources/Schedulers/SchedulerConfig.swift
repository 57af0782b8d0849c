// The contents of a diffusers scheduler_config.json, with diffusers' per-class defaults.
import Foundation
import TensorCore

/// One scheduler configuration; `fields` lists each `scheduler_config.json` key once.
///
/// diffusers' `from_config` keeps every key the file holds and takes the target class's
/// `__init__` default for every key it lacks. `explicitKeys` remembers which keys the file
/// held, so `applyingDefaults(of:)` can give each scheduler class its own defaults while
/// keeping the folder's betas, prediction type and spacing.
public struct SchedulerConfig: ConfigFields, Codable, Equatable {
    public var className: String?

    public var numTrainTimesteps: Int = 1000
    public var betaStart: Double = 0.0001
    public var betaEnd: Double = 0.02
    public var betaSchedule: BetaSchedule = .linear
    public var trainedBetas: [Double]?
    public var predictionType: PredictionType = .epsilon
    public var timestepSpacing: TimestepSpacing = .leading
    public var stepsOffset: Int = 0
    public var rescaleBetasZeroSnr: Bool = false

    // DDPM / DDIM / PNDM / LCM
    public var setAlphaToOne: Bool = true
    public var skipPrkSteps: Bool = false
    public var clipSample: Bool = true
    public var clipSampleRange: Double = 1.0
    public var thresholding: Bool = false
    public var dynamicThresholdingRatio: Double = 0.995
    public var sampleMaxValue: Double = 1.0
    public var varianceType: String? = "fixed_small"

    // Sigma-based schedulers (Euler, Euler ancestral, LMS, Heun, DPM-Solver)
    public var useKarrasSigmas: Bool = false
    public var useExponentialSigmas: Bool = false
    public var useBetaSigmas: Bool = false
    public var useLuLambdas: Bool = false
    public var useFlowSigmas: Bool = false
    public var useDynamicShifting: Bool = false
    public var interpolationType: String = "linear"
    public var timestepType: String = "discrete"
    public var finalSigmasType: String = "zero"
    public var sigmaMin: Double?
    public var sigmaMax: Double?

    // DPM-Solver multistep
    public var algorithmType: String = "dpmsolver++"
    public var solverType: String = "midpoint"
    public var solverOrder: Int = 2
    public var lowerOrderFinal: Bool = true
    public var eulerAtFinal: Bool = false
    /// `lambda_min_clipped`; nil stands for diffusers' default `-inf`.
    public var lambdaMinClipped: Double?

    // LCM
    public var originalInferenceSteps: Int = 50
    public var timestepScaling: Double = 10.0

    /// JSON keys present when this config was decoded (or set by `setting`/`overriding`).
    public var explicitKeys: Set<String> = []

    public init() {}

    public static let fields: [ConfigField<SchedulerConfig>] = [
        .optional("_class_name", \.className, omittedWhenNil: true),
        .value("num_train_timesteps", \.numTrainTimesteps),
        .value("beta_start", \.betaStart),
        .value("beta_end", \.betaEnd),
        .value("beta_schedule", \.betaSchedule),
        .optional("trained_betas", \.trainedBetas),
        .value("prediction_type", \.predictionType),
        .value("timestep_spacing", \.timestepSpacing),
        .value("steps_offset", \.stepsOffset),
        .value("rescale_betas_zero_snr", \.rescaleBetasZeroSnr),
        .value("set_alpha_to_one", \.setAlphaToOne),
        .value("skip_prk_steps", \.skipPrkSteps),
        .value("clip_sample", \.clipSample),
        .value("clip_sample_range", \.clipSampleRange),
        .value("thresholding", \.thresholding),
        .value("dynamic_thresholding_ratio", \.dynamicThresholdingRatio),
        .value("sample_max_value", \.sampleMaxValue),
        .optional("variance_type", \.varianceType),
        .value("use_karras_sigmas", \.useKarrasSigmas),
        .value("use_exponential_sigmas", \.useExponentialSigmas),
        .value("use_beta_sigmas", \.useBetaSigmas),
        .value("use_lu_lambdas", \.useLuLambdas),
        .value("use_flow_sigmas", \.useFlowSigmas),
        .value("use_dynamic_shifting", \.useDynamicShifting),
        .value("interpolation_type", \.interpolationType),
        .value("timestep_type", \.timestepType),
        .value("final_sigmas_type", \.finalSigmasType),
        .optional("sigma_min", \.sigmaMin),
        .optional("sigma_max", \.sigmaMax),
        .value("algorithm_type", \.algorithmType),
        .value("solver_type", \.solverType),
        .value("solver_order", \.solverOrder),
        .value("lower_order_final", \.lowerOrderFinal),
        .value("euler_at_final", \.eulerAtFinal),
        .optional("lambda_min_clipped", \.lambdaMinClipped, omittedWhenNil: true),
        .value("original_inference_steps", \.originalInferenceSteps),
        .value("timestep_scaling", \.timestepScaling),
    ]

    static let versionKey = "_diffusers_version"

    public init(from decoder: Decoder) throws {
        self.init()
        explicitKeys = try decodeFields(from: decoder)
        // Python writes diffusers' default -inf; nil stands for it here.
        if lambdaMinClipped == -.infinity { lambdaMinClipped = nil }
    }

    /// Every field, plus the diffusers version this implementation matches.
    public func encode(to encoder: Encoder) throws {
        try encodeFields(to: encoder)
        var container = encoder.container(keyedBy: ConfigKey.self)
        try container.encode(ConfigFile.diffusersVersion, forKey: ConfigKey(Self.versionKey))
    }

    /// Equality of the configuration values (not of which keys a file happened to hold).
    public static func == (a: SchedulerConfig, b: SchedulerConfig) -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(a)) == (try? encoder.encode(b))
    }
}
