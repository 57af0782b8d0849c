// The contents of a diffusers scheduler_config.json, with diffusers' per-class defaults.
import Foundation

/// One scheduler configuration. Coding keys are the `scheduler_config.json` names.
///
/// diffusers' `from_config` keeps every key the file holds and takes the target class's
/// `__init__` default for every key it lacks. `explicitKeys` remembers which keys the file
/// held, so `applyingDefaults(of:)` can give each scheduler class its own defaults while
/// keeping the folder's betas, prediction type and spacing.
public struct SchedulerConfig: Codable, Equatable {
    public var className: String?
    public var diffusersVersion: String?

    public var numTrainTimesteps: Int = 1000
    public var betaStart: Double = 0.0001
    public var betaEnd: Double = 0.02
    public var betaSchedule: String = "linear"
    public var trainedBetas: [Double]?
    public var predictionType: String = "epsilon"
    public var timestepSpacing: String = "leading"
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

    /// JSON keys present when this config was decoded (or set by `setting`).
    public var explicitKeys: Set<String> = []

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case className = "_class_name"
        case diffusersVersion = "_diffusers_version"
        case numTrainTimesteps = "num_train_timesteps"
        case betaStart = "beta_start"
        case betaEnd = "beta_end"
        case betaSchedule = "beta_schedule"
        case trainedBetas = "trained_betas"
        case predictionType = "prediction_type"
        case timestepSpacing = "timestep_spacing"
        case stepsOffset = "steps_offset"
        case rescaleBetasZeroSnr = "rescale_betas_zero_snr"
        case setAlphaToOne = "set_alpha_to_one"
        case skipPrkSteps = "skip_prk_steps"
        case clipSample = "clip_sample"
        case clipSampleRange = "clip_sample_range"
        case thresholding
        case dynamicThresholdingRatio = "dynamic_thresholding_ratio"
        case sampleMaxValue = "sample_max_value"
        case varianceType = "variance_type"
        case useKarrasSigmas = "use_karras_sigmas"
        case useExponentialSigmas = "use_exponential_sigmas"
        case useBetaSigmas = "use_beta_sigmas"
        case useLuLambdas = "use_lu_lambdas"
        case useFlowSigmas = "use_flow_sigmas"
        case useDynamicShifting = "use_dynamic_shifting"
        case interpolationType = "interpolation_type"
        case timestepType = "timestep_type"
        case finalSigmasType = "final_sigmas_type"
        case sigmaMin = "sigma_min"
        case sigmaMax = "sigma_max"
        case algorithmType = "algorithm_type"
        case solverType = "solver_type"
        case solverOrder = "solver_order"
        case lowerOrderFinal = "lower_order_final"
        case eulerAtFinal = "euler_at_final"
        case lambdaMinClipped = "lambda_min_clipped"
        case originalInferenceSteps = "original_inference_steps"
        case timestepScaling = "timestep_scaling"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        explicitKeys = Set(c.allKeys.map(\.rawValue))
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        // Optionals whose JSON `null` means "not set".
        func readOptional<T: Decodable>(_ key: CodingKeys, _ value: inout T?) throws {
            if c.contains(key) { value = try c.decodeIfPresent(T.self, forKey: key) }
        }
        try readOptional(.className, &className)
        try readOptional(.diffusersVersion, &diffusersVersion)
        try read(.numTrainTimesteps, &numTrainTimesteps)
        try read(.betaStart, &betaStart)
        try read(.betaEnd, &betaEnd)
        try read(.betaSchedule, &betaSchedule)
        try readOptional(.trainedBetas, &trainedBetas)
        try read(.predictionType, &predictionType)
        try read(.timestepSpacing, &timestepSpacing)
        try read(.stepsOffset, &stepsOffset)
        try read(.rescaleBetasZeroSnr, &rescaleBetasZeroSnr)
        try read(.setAlphaToOne, &setAlphaToOne)
        try read(.skipPrkSteps, &skipPrkSteps)
        try read(.clipSample, &clipSample)
        try read(.clipSampleRange, &clipSampleRange)
        try read(.thresholding, &thresholding)
        try read(.dynamicThresholdingRatio, &dynamicThresholdingRatio)
        try read(.sampleMaxValue, &sampleMaxValue)
        try readOptional(.varianceType, &varianceType)
        try read(.useKarrasSigmas, &useKarrasSigmas)
        try read(.useExponentialSigmas, &useExponentialSigmas)
        try read(.useBetaSigmas, &useBetaSigmas)
        try read(.useLuLambdas, &useLuLambdas)
        try read(.useFlowSigmas, &useFlowSigmas)
        try read(.useDynamicShifting, &useDynamicShifting)
        try read(.interpolationType, &interpolationType)
        try read(.timestepType, &timestepType)
        try read(.finalSigmasType, &finalSigmasType)
        try readOptional(.sigmaMin, &sigmaMin)
        try readOptional(.sigmaMax, &sigmaMax)
        try read(.algorithmType, &algorithmType)
        try read(.solverType, &solverType)
        try read(.solverOrder, &solverOrder)
        try read(.lowerOrderFinal, &lowerOrderFinal)
        try read(.eulerAtFinal, &eulerAtFinal)
        try readOptional(.lambdaMinClipped, &lambdaMinClipped)
        if let v = lambdaMinClipped, v == -.infinity { lambdaMinClipped = nil }
        try read(.originalInferenceSteps, &originalInferenceSteps)
        try read(.timestepScaling, &timestepScaling)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(className, forKey: .className)
        try c.encodeIfPresent(diffusersVersion, forKey: .diffusersVersion)
        try c.encode(numTrainTimesteps, forKey: .numTrainTimesteps)
        try c.encode(betaStart, forKey: .betaStart)
        try c.encode(betaEnd, forKey: .betaEnd)
        try c.encode(betaSchedule, forKey: .betaSchedule)
        try c.encode(trainedBetas, forKey: .trainedBetas)  // null when absent, as diffusers writes it
        try c.encode(predictionType, forKey: .predictionType)
        try c.encode(timestepSpacing, forKey: .timestepSpacing)
        try c.encode(stepsOffset, forKey: .stepsOffset)
        try c.encode(rescaleBetasZeroSnr, forKey: .rescaleBetasZeroSnr)
        try c.encode(setAlphaToOne, forKey: .setAlphaToOne)
        try c.encode(skipPrkSteps, forKey: .skipPrkSteps)
        try c.encode(clipSample, forKey: .clipSample)
        try c.encode(clipSampleRange, forKey: .clipSampleRange)
        try c.encode(thresholding, forKey: .thresholding)
        try c.encode(dynamicThresholdingRatio, forKey: .dynamicThresholdingRatio)
        try c.encode(sampleMaxValue, forKey: .sampleMaxValue)
        try c.encodeIfPresent(varianceType, forKey: .varianceType)
        try c.encode(useKarrasSigmas, forKey: .useKarrasSigmas)
        try c.encode(useExponentialSigmas, forKey: .useExponentialSigmas)
        try c.encode(useBetaSigmas, forKey: .useBetaSigmas)
        try c.encode(useLuLambdas, forKey: .useLuLambdas)
        try c.encode(useFlowSigmas, forKey: .useFlowSigmas)
        try c.encode(useDynamicShifting, forKey: .useDynamicShifting)
        try c.encode(interpolationType, forKey: .interpolationType)
        try c.encode(timestepType, forKey: .timestepType)
        try c.encode(finalSigmasType, forKey: .finalSigmasType)
        try c.encodeIfPresent(sigmaMin, forKey: .sigmaMin)
        try c.encodeIfPresent(sigmaMax, forKey: .sigmaMax)
        try c.encode(algorithmType, forKey: .algorithmType)
        try c.encode(solverType, forKey: .solverType)
        try c.encode(solverOrder, forKey: .solverOrder)
        try c.encode(lowerOrderFinal, forKey: .lowerOrderFinal)
        try c.encode(eulerAtFinal, forKey: .eulerAtFinal)
        try c.encodeIfPresent(lambdaMinClipped, forKey: .lambdaMinClipped)
        try c.encode(originalInferenceSteps, forKey: .originalInferenceSteps)
        try c.encode(timestepScaling, forKey: .timestepScaling)
    }

    /// Equality of the configuration values (not of which keys a file happened to hold).
    public static func == (a: SchedulerConfig, b: SchedulerConfig) -> Bool {
        var a = a, b = b
        a.explicitKeys = []
        b.explicitKeys = []
        return a.valuesEqual(b)
    }

    private func valuesEqual(_ o: SchedulerConfig) -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(self)) == (try? encoder.encode(o))
    }
}

extension SchedulerConfig {
    /// Reads `scheduler_config.json` from a scheduler folder (or the file itself).
    public static func load(from url: URL) throws -> SchedulerConfig {
        var isDirectory: ObjCBool = false
        var file = url
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            file = url.appendingPathComponent("scheduler_config.json")
        }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw SchedulerError.unreadableConfig(path: file.path, reason: error.localizedDescription)
        }
        return try decode(data, path: file.path)
    }

    /// Decodes JSON text. Python's `json` writes `-Infinity`/`Infinity`/`NaN` bare, which
    /// strict JSON parsers reject, so those tokens are quoted first.
    public static func decode(_ data: Data, path: String = "<json>") throws -> SchedulerConfig {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        do {
            return try decoder.decode(SchedulerConfig.self, from: quotingNonFiniteNumbers(data))
        } catch let error as DecodingError {
            throw SchedulerError.invalidConfig(path: path, reason: describe(error))
        }
    }

    static func quotingNonFiniteNumbers(_ data: Data) -> Data {
        let bytes = [UInt8](data)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var inString = false, escaped = false
        var i = 0
        let tokens: [[UInt8]] = ["-Infinity", "Infinity", "NaN"].map { Array($0.utf8) }
        outer: while i < bytes.count {
            let b = bytes[i]
            if inString {
                out.append(b)
                if escaped { escaped = false } else if b == UInt8(ascii: "\\") { escaped = true } else if b == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            if b == UInt8(ascii: "\"") { inString = true; out.append(b); i += 1; continue }
            for token in tokens where bytes.count - i >= token.count && Array(bytes[i..<(i + token.count)]) == token {
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: token)
                out.append(UInt8(ascii: "\""))
                i += token.count
                continue outer
            }
            out.append(b)
            i += 1
        }
        return Data(out)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c):
            let key = path(c)
            return key.isEmpty ? c.debugDescription : "key '\(key)': \(c.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    /// This config as diffusers' `Class.from_config(config)` resolves it: keys the file held
    /// are kept, every other key takes the target class's default.
    public func applyingDefaults(of kind: SchedulerKind) -> SchedulerConfig {
        var defaults = SchedulerConfig.defaults(of: kind)
        let source = self
        for key in explicitKeys {
            guard let codingKey = CodingKeys(rawValue: key) else { continue }
            defaults.copy(codingKey, from: source)
        }
        defaults.explicitKeys = explicitKeys
        defaults.className = kind.className
        defaults.diffusersVersion = diffusersVersion
        return defaults
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
            c.timestepSpacing = "linspace"
        case .heun:
            c.timestepSpacing = "linspace"
            c.clipSample = false
        case .dpmSolverMultistep:
            c.timestepSpacing = "linspace"
            c.varianceType = nil
        case .lcm:
            c.betaStart = 0.00085
            c.betaEnd = 0.012
            c.betaSchedule = "scaled_linear"
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

    private mutating func copy(_ key: CodingKeys, from s: SchedulerConfig) {
        switch key {
        case .className, .diffusersVersion: break
        case .numTrainTimesteps: numTrainTimesteps = s.numTrainTimesteps
        case .betaStart: betaStart = s.betaStart
        case .betaEnd: betaEnd = s.betaEnd
        case .betaSchedule: betaSchedule = s.betaSchedule
        case .trainedBetas: trainedBetas = s.trainedBetas
        case .predictionType: predictionType = s.predictionType
        case .timestepSpacing: timestepSpacing = s.timestepSpacing
        case .stepsOffset: stepsOffset = s.stepsOffset
        case .rescaleBetasZeroSnr: rescaleBetasZeroSnr = s.rescaleBetasZeroSnr
        case .setAlphaToOne: setAlphaToOne = s.setAlphaToOne
        case .skipPrkSteps: skipPrkSteps = s.skipPrkSteps
        case .clipSample: clipSample = s.clipSample
        case .clipSampleRange: clipSampleRange = s.clipSampleRange
        case .thresholding: thresholding = s.thresholding
        case .dynamicThresholdingRatio: dynamicThresholdingRatio = s.dynamicThresholdingRatio
        case .sampleMaxValue: sampleMaxValue = s.sampleMaxValue
        case .varianceType: varianceType = s.varianceType
        case .useKarrasSigmas: useKarrasSigmas = s.useKarrasSigmas
        case .useExponentialSigmas: useExponentialSigmas = s.useExponentialSigmas
        case .useBetaSigmas: useBetaSigmas = s.useBetaSigmas
        case .useLuLambdas: useLuLambdas = s.useLuLambdas
        case .useFlowSigmas: useFlowSigmas = s.useFlowSigmas
        case .useDynamicShifting: useDynamicShifting = s.useDynamicShifting
        case .interpolationType: interpolationType = s.interpolationType
        case .timestepType: timestepType = s.timestepType
        case .finalSigmasType: finalSigmasType = s.finalSigmasType
        case .sigmaMin: sigmaMin = s.sigmaMin
        case .sigmaMax: sigmaMax = s.sigmaMax
        case .algorithmType: algorithmType = s.algorithmType
        case .solverType: solverType = s.solverType
        case .solverOrder: solverOrder = s.solverOrder
        case .lowerOrderFinal: lowerOrderFinal = s.lowerOrderFinal
        case .eulerAtFinal: eulerAtFinal = s.eulerAtFinal
        case .lambdaMinClipped: lambdaMinClipped = s.lambdaMinClipped
        case .originalInferenceSteps: originalInferenceSteps = s.originalInferenceSteps
        case .timestepScaling: timestepScaling = s.timestepScaling
        }
    }
}
