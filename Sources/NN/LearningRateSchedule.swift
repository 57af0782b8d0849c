// Learning-rate schedule: linear warm-up, then cosine decay to a floor.
import Foundation

public struct LearningRateSchedule {
    public let peak: Float
    public let warmupSteps: Int
    public let totalSteps: Int
    public let floor: Float

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, floor: Float = 0.1) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.floor = floor
    }

    /// The rate for (zero-based) `step`.
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let progress = Float(step - warmupSteps) / Float(Swift.max(1, totalSteps - warmupSteps))
        let cosine = 0.5 * (1 + cosf(Float.pi * Swift.min(progress, 1)))
        return peak * (floor + (1 - floor) * cosine)
    }
}
