// AdamW optimiser (decoupled weight decay; PyTorch torch.optim.AdamW semantics).
import CKernels
import Foundation
import TensorCore

public final class AdamW {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    public private(set) var step = 0
    let parameters: [(key: String, parameter: Parameter)]
    /// First and second moments per parameter key, zero until the parameter's first gradient
    /// (allocated up front, so every saved state holds every parameter's moments).
    var moments: [String: (m: Tensor, v: Tensor)]

    public init(parameters: [(key: String, parameter: Parameter)], learningRate: Float, beta1: Float = 0.9,
                beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 1e-2) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        moments = Dictionary(parameters.map { ($0.key, (Tensor.zeros($0.parameter.shape), Tensor.zeros($0.parameter.shape))) },
                             uniquingKeysWith: { first, _ in first })
    }

    /// One update from the accumulated gradients times `gradientScale` (for clipping and
    /// accumulation; gradients are never scaled in place, as they may be shared tensors).
    /// Parameters without a gradient are skipped.
    public func update(gradientScale: Float = 1) {
        step += 1
        let c1 = 1 - Foundation.pow(beta1, Float(step)), c2 = 1 - Foundation.pow(beta2, Float(step))
        OpProfile.measured(.optimizer) {
            for (key, parameter) in parameters {
                guard let grad = parameter.grad else { continue }
                guard let state = moments[key] else { continue }
                dk_adamw_update(parameter.value.pointer, grad.pointer, state.m.pointer, state.v.pointer,
                                Int64(parameter.value.count), gradientScale, learningRate, beta1, beta2, eps, weightDecay, c1, c2)
            }
        }
    }

    /// The optimiser state as named tensors (for checkpoints): `m.KEY`, `v.KEY`, and the step.
    public func stateTensors() -> [String: Tensor] {
        var result: [String: Tensor] = ["step": Tensor(Float(step))]
        for (key, state) in moments {
            result["m." + key] = state.m
            result["v." + key] = state.v
        }
        return result
    }

    /// Restores what `stateTensors()` produced: the step and both moments of every parameter,
    /// each with its parameter's shape, and nothing else.
    public func load(stateTensors: [String: Tensor]) throws {
        let expected = [("step", [Int]())] + parameters.flatMap { [("m." + $0.key, $0.parameter.shape), ("v." + $0.key, $0.parameter.shape)] }
        try StateLoadError.check(stateTensors, against: expected, owner: "AdamW")
        guard let savedStep = stateTensors["step"]?.item, savedStep >= 0, savedStep.isFinite else {
            throw StateLoadError(owner: "AdamW", key: "step", problem: .missing)
        }
        step = Int(savedStep)
        for (key, _) in parameters {
            if let m = stateTensors["m." + key], let v = stateTensors["v." + key] { moments[key] = (m.copy(), v.copy()) }
        }
    }
}
