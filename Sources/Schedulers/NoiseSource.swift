// Where a scheduler step gets its N(0, 1) noise: the caller's generator or a given tensor.
import TensorCore

/// Supplies standard-normal noise of a requested shape. Pipelines wrap their
/// torch-compatible generator so noise is drawn in the same order diffusers draws it.
public struct NoiseSource {
    private let draw: ([Int]) throws -> Tensor

    /// Noise from a closure called with the sample's shape, once per draw.
    public init(_ draw: @escaping ([Int]) throws -> Tensor) {
        self.draw = draw
    }

    /// The given noise (e.g. DDIM's `variance_noise`); its shape must match the sample.
    public static func explicit(_ noise: Tensor) -> NoiseSource {
        NoiseSource { _ in noise }
    }

    /// No noise: a step that needs noise fails with `SchedulerError.noiseRequired`.
    public static let none = NoiseSource { _ in throw SchedulerError.noiseRequired(scheduler: "NoiseSource.none") }

    /// A draw shaped like `sample` ([N, C, H, W]).
    func callAsFunction(like sample: Tensor, scheduler: String) throws -> Tensor {
        let noise = try draw(sample.shape)
        try checkSameShape(sample, noise, scheduler: scheduler, what: "drawn noise")
        return noise
    }
}
