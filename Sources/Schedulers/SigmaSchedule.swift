// Timestep and sigma tables of the Karras-style schedulers (Euler, LMS, Heun).
import Foundation

enum SigmaSchedule {
    /// Timesteps (float32 values) and their sigmas (float64, before the final sigma is
    /// appended), as Euler/LMS/Heun's `set_timesteps` build them.
    static func tables(count: Int, config c: SchedulerConfig, schedule: NoiseSchedule, scheduler: String)
        throws -> (timesteps: [Double], sigmas: [Double])
    {
        var timesteps = try TimestepSpacing.timesteps(count: count, config: c, scheduler: scheduler, roundLinspace: false)
        let trainSigmas = schedule.trainingSigmas
        var sigmas: [Double]
        switch c.interpolationType {
        case "log_linear":
            // diffusers spans the full training range here, descending, count + 1 values.
            let logMax = Double(Foundation.log(trainSigmas[trainSigmas.count - 1]))
            let logMin = Double(Foundation.log(trainSigmas[0]))
            sigmas = NumpyCompat.torchLinspaceFloat(logMax, logMin, count + 1).map { Double(Foundation.exp($0)) }
        default:
            sigmas = timesteps.map { NumpyCompat.interp($0, table: trainSigmas) }
        }
        if c.useKarrasSigmas {
            let logSigmas = trainSigmas.map { Foundation.log($0) }
            sigmas = NumpyCompat.karrasSigmas(sigmaMin: c.sigmaMin ?? sigmas[sigmas.count - 1],
                                              sigmaMax: c.sigmaMax ?? sigmas[0], count: count)
            timesteps = sigmas.map { Double(Float(NumpyCompat.sigmaToT($0, logSigmas: logSigmas))) }
        }
        return (timesteps, sigmas)
    }

    /// The sigma appended after the last step: 0, or the smallest training sigma.
    static func finalSigma(_ c: SchedulerConfig, schedule: NoiseSchedule) -> Double {
        guard c.finalSigmasType == "sigma_min", let acp0 = schedule.alphasCumprod.first else { return 0 }
        return Double(((1 - acp0) / acp0).squareRoot())
    }
}

extension SigmaSchedule {
    static func sigma(_ table: [Float], at index: Int, scheduler: String) throws -> Float {
        guard index >= 0, index < table.count else {
            throw SchedulerError.stepIndexOutOfRange(scheduler: scheduler, index: index, count: table.count)
        }
        return table[index]
    }

    /// The sigma `add_noise` uses: at the timestep's index, or at the current/begin index
    /// once img2img has set a begin index.
    static func addNoiseSigma(_ table: [Float], timesteps: [Double], cursor: StepCursor, timestep: Double,
                              scheduler: String, missingIsLast: Bool = false) throws -> Float {
        let index = cursor.beginIndex == nil
            ? try StepCursor.index(of: timestep, in: timesteps, scheduler: scheduler, missingIsLast: missingIsLast)
            : (cursor.stepIndex ?? cursor.beginIndex ?? 0)
        return try sigma(table, at: index, scheduler: scheduler)
    }

    /// original + sigma(t) * noise (the variance-exploding forward process).
    static func addNoise(original: [Float], noise: [Float], sigma: Float, scheduler: String) throws -> [Float] {
        try checkSameCount(original, noise, scheduler: scheduler)
        return zip(original, noise).map { $0 + $1 * sigma }
    }
}
