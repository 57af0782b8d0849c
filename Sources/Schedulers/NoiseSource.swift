// Where a scheduler step gets its N(0, 1) noise: the caller's generator or given arrays.

/// Supplies standard-normal noise of a requested element count. Pipelines wrap their
/// torch-compatible generator so noise is drawn in the same order diffusers draws it.
public struct NoiseSource {
    private let draw: (Int) throws -> [Float]

    /// Noise from a closure called with the element count, once per draw.
    public init(_ draw: @escaping (Int) throws -> [Float]) {
        self.draw = draw
    }

    /// The given noise (e.g. DDIM's `variance_noise`); its size must match the sample.
    public static func explicit(_ noise: [Float]) -> NoiseSource {
        NoiseSource { count in
            guard noise.count == count else {
                throw SchedulerError.sizeMismatch(scheduler: "NoiseSource", what: "explicit noise", expected: count, got: noise.count)
            }
            return noise
        }
    }

    /// No noise: a step that needs noise fails with `SchedulerError.noiseRequired`.
    public static let none = NoiseSource { _ in throw SchedulerError.noiseRequired(scheduler: "NoiseSource.none") }

    func callAsFunction(_ count: Int, scheduler: String) throws -> [Float] {
        let noise = try draw(count)
        guard noise.count == count else {
            throw SchedulerError.sizeMismatch(scheduler: scheduler, what: "drawn noise", expected: count, got: noise.count)
        }
        return noise
    }
}
