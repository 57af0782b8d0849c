// Exponential moving average of parameters (the weights a trained model ships with).
import TensorCore

public final class EMA {
    public let decay: Float
    /// Shadow copies keyed like the parameters.
    public private(set) var shadow: [String: Tensor]

    public init(parameters: [(key: String, parameter: Parameter)], decay: Float) {
        self.decay = decay
        shadow = Dictionary(uniqueKeysWithValues: parameters.map { ($0.key, $0.parameter.value.copy()) })
    }

    /// shadow ← decay·shadow + (1 − decay)·current, with a warm-up so early averages are not stale.
    public func update(_ parameters: [(key: String, parameter: Parameter)], step: Int) {
        let d = Swift.min(decay, Float(1 + step) / Float(10 + step))
        for (key, parameter) in parameters {
            guard let s = shadow[key] else { continue }
            let sp = s.pointer, w = parameter.value.pointer
            parallelFor(s.count) { begin, end in
                for i in begin..<end { sp[i] = d * sp[i] + (1 - d) * w[i] }
            }
        }
    }

    /// Restores saved averages: one per shadow key with its shape, and nothing else.
    public func load(_ tensors: [String: Tensor]) throws {
        try StateLoadError.check(tensors, against: shadow.map { ($0.key, $0.value.shape) }.sorted { $0.0 < $1.0 }, owner: "EMA")
        for (key, t) in tensors { shadow[key] = t.copy() }
    }
}
