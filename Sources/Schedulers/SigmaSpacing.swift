// How a sigma ladder spaces its noise levels: interpolated at the timesteps, Karras or exponential.
import Foundation

/// The sigma ramp of a Karras-style sampler (diffusers' `use_karras_sigmas`,
/// `use_exponential_sigmas`): a choice independent of the solver, so "Euler on Karras
/// sigmas" is a pair, not a class.
public enum SigmaSpacing: String, CaseIterable {
    /// The training sigmas interpolated at the spaced timesteps.
    case interpolated
    /// Karras et al. (2022), rho = 7, between the interpolated ends (or sigma_min/max).
    case karras
    /// Evenly spaced in log sigma between the same ends.
    case exponential

    /// The spacing a config's flags choose; beta sigmas are not implemented.
    public init(config c: SchedulerConfig, scheduler: String) throws {
        try ConfigCheck.off(c.useBetaSigmas, field: "use_beta_sigmas", scheduler: scheduler)
        if c.useKarrasSigmas && c.useExponentialSigmas {
            throw SchedulerError.invalidValue(scheduler: scheduler, field: "use_karras_sigmas", value: "true",
                                              reason: "only one of use_karras_sigmas and use_exponential_sigmas may be set")
        }
        self = c.useKarrasSigmas ? .karras : c.useExponentialSigmas ? .exponential : .interpolated
    }

    /// `count` descending sigmas from `sigmaMax` to `sigmaMin` in float64; nil when interpolated.
    func ramp(sigmaMin: Double, sigmaMax: Double, count: Int) -> [Double]? {
        switch self {
        case .interpolated:
            return nil
        case .karras:
            return NumpyCompat.karrasSigmas(sigmaMin: sigmaMin, sigmaMax: sigmaMax, count: count)
        case .exponential:
            return NumpyCompat.linspace(Foundation.log(sigmaMax), Foundation.log(sigmaMin), count).map { Foundation.exp($0) }
        }
    }
}
