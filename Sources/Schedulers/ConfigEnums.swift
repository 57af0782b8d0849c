// The enumerated scheduler config values, spelled as diffusers spells them in config.json.
import Foundation
import TensorCore

/// A config value drawn from a fixed set of strings; anything else fails to decode with a
/// message listing the accepted values (the decoder adds file and key).
public protocol ConfigEnum: RawRepresentable, CaseIterable, Codable where RawValue == String {}

extension ConfigEnum {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            let accepted = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "unsupported value '\(raw)' (supported: \(accepted))"))
        }
        self = value
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// What the model predicts (`prediction_type`).
public enum PredictionType: String, ConfigEnum {
    case epsilon
    case vPrediction = "v_prediction"
    case sample
}

/// How inference timesteps are spread over the training range (`timestep_spacing`).
public enum TimestepSpacing: String, ConfigEnum {
    case linspace, leading, trailing
}

/// How betas grow over the training timesteps (`beta_schedule`).
public enum BetaSchedule: String, ConfigEnum {
    case linear
    case scaledLinear = "scaled_linear"
    case squaredcosCapV2 = "squaredcos_cap_v2"
}
