// One training step of a small model checked end to end, as llm.c's test_gpt2 checks one of
// GPT-2: forward and loss against a Double reference, every gradient against central finite
// differences of that reference, then AdamW steps against the update written out by hand.
import Foundation
import NN
import TensorCore
import TestSupport
import XCTest

/// Linear(3 → 4) → SiLU → Linear(4 → 2).
final class TwoLayer: Module {
    let first: Linear, second: Linear
    init() {
        var initializer = Initializer(seed: 11)
        first = Linear(3, 4, initializer: &initializer)
        second = Linear(4, 2, initializer: &initializer)
    }
    var children: [(String, Module)] { [("0", first), ("2", second)] }  // nn.Sequential's numbering
    /// [B, 3] → [B, 2]
    func callAsFunction(_ x: Tensor) -> Tensor { second(first(x).silu()) }
}

/// The same network in Double over flat parameter arrays keyed as the module keys them.
struct ReferenceNetwork {
    var p: [String: [Double]]
    let x: [Double], target: [Double]
    let batch = 5

    /// [B, 2] outputs.
    func forward() -> [Double] {
        var y = [Double](repeating: 0, count: batch * 2)
        for b in 0..<batch {
            var hidden = [Double](repeating: 0, count: 4)
            for j in 0..<4 {
                var h = p["0.bias"]![j]
                for i in 0..<3 { h += x[b * 3 + i] * p["0.weight"]![j * 3 + i] }
                hidden[j] = h / (1 + exp(-h))  // SiLU
            }
            for k in 0..<2 {
                var out = p["2.bias"]![k]
                for j in 0..<4 { out += hidden[j] * p["2.weight"]![k * 4 + j] }
                y[b * 2 + k] = out
            }
        }
        return y
    }

    /// Mean squared error over all B·2 outputs (PyTorch's MSELoss, reduction "mean").
    func loss() -> Double {
        let y = forward()
        return zip(y, target).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(y.count)
    }

    /// ∂loss/∂p[key][i] by central differences (Double, h = 1e-5: error O(h²) ≈ 1e-10).
    func finiteDifference(_ key: String, _ i: Int) -> Double {
        let h = 1e-5
        var plus = self, minus = self
        plus.p[key]![i] += h
        minus.p[key]![i] -= h
        return (plus.loss() - minus.loss()) / (2 * h)
    }
}

final class TrainingStepTests: XCTestCase {
    func testForwardLossGradientsAndAdamWStepsOfASmallModel() throws {
        let model = TwoLayer()
        let x = testTensor([5, 3], seed: 21), target = testTensor([5, 2], seed: 22)
        let keys = model.namedParameters().map(\.key)
        XCTAssertEqual(keys, ["0.weight", "0.bias", "2.weight", "2.bias"])
        let (lr, weightDecay, beta1, beta2, eps) = (1e-2, 0.1, 0.9, 0.999, 1e-8)
        let optimizer = AdamW(parameters: model.namedParameters(), learningRate: Float(lr), weightDecay: Float(weightDecay))
        var m: [String: [Double]] = [:], v: [String: [Double]] = [:]

        for step in 1...2 {
            var reference = ReferenceNetwork(p: [:], x: x.values.map(Double.init), target: target.values.map(Double.init))
            for (key, parameter) in model.namedParameters() { reference.p[key] = parameter.value.values.map(Double.init) }

            // Forward and loss: float32 against the Double reference.
            let output = model(x)
            XCTAssertEqual(output.shape, [5, 2])
            assertClose(output.values, reference.forward().map(Float.init), relative: 1e-5, "step \(step) forward")
            let loss = output.mseLoss(target)
            XCTAssertEqual(Double(loss.item), reference.loss(), accuracy: 1e-5 * max(1, reference.loss()), "step \(step) loss")

            // Backward: every gradient within 1e-4·max(1, max|g|) of the finite differences
            // (float32 autodiff against a Double derivative, whose own error is ~1e-10).
            model.zeroGrad()
            loss.backward()
            var gradients: [String: [Double]] = [:]
            for (key, parameter) in model.namedParameters() {
                let grad = try XCTUnwrap(parameter.grad, "\(key) has a gradient")
                let numeric = (0..<grad.count).map { reference.finiteDifference(key, $0) }
                assertClose(grad.values, numeric.map(Float.init), relative: 1e-4, "step \(step) ∂loss/∂\(key)")
                gradients[key] = grad.values.map(Double.init)
            }

            // AdamW as torch.optim.AdamW: decoupled decay, then the bias-corrected moment ratio.
            optimizer.learningRate = Float(lr)
            optimizer.update()
            for (key, parameter) in model.namedParameters() {
                let g = gradients[key]!, t = Double(step)
                var w = reference.p[key]!
                var mk = m[key] ?? [Double](repeating: 0, count: g.count), vk = v[key] ?? mk
                for i in w.indices {
                    w[i] *= 1 - lr * weightDecay
                    mk[i] = beta1 * mk[i] + (1 - beta1) * g[i]
                    vk[i] = beta2 * vk[i] + (1 - beta2) * g[i] * g[i]
                    let mHat = mk[i] / (1 - pow(beta1, t)), vHat = vk[i] / (1 - pow(beta2, t))
                    w[i] -= lr * mHat / (vHat.squareRoot() + eps)
                }
                (m[key], v[key]) = (mk, vk)
                assertClose(parameter.value.values, w.map(Float.init), absolute: 1e-6, "step \(step) AdamW update of \(key)")
            }
        }
        XCTAssertEqual(optimizer.step, 2)
    }

    func testStrictStateLoading() throws {
        var initializer = Initializer(seed: 1)
        let layer = Linear(3, 2, initializer: &initializer)
        let optimizer = AdamW(parameters: layer.namedParameters(), learningRate: 1e-3)
        var state = optimizer.stateTensors()
        XCTAssertEqual(Set(state.keys), ["step", "m.weight", "v.weight", "m.bias", "v.bias"], "every moment, even before a step")
        XCTAssertNoThrow(try optimizer.load(stateTensors: state))
        state["v.bias"] = Tensor.zeros([3])
        XCTAssertThrowsError(try optimizer.load(stateTensors: state)) {
            XCTAssertEqual($0 as? StateLoadError, StateLoadError(owner: "AdamW", key: "v.bias", problem: .shape(expected: [2], found: [3])))
        }
        state["v.bias"] = nil
        XCTAssertThrowsError(try optimizer.load(stateTensors: state)) {
            XCTAssertEqual("\($0)", "AdamW state lacks tensor v.bias")
        }
        let ema = EMA(parameters: layer.namedParameters(), decay: 0.9)
        XCTAssertThrowsError(try ema.load(["weight": Tensor.zeros([2, 3])])) {
            XCTAssertEqual($0 as? StateLoadError, StateLoadError(owner: "EMA", key: "bias", problem: .missing))
        }
        XCTAssertThrowsError(try ema.load(["weight": Tensor.zeros([2, 3]), "bias": Tensor.zeros([2]), "gain": Tensor.zeros([2])])) {
            XCTAssertEqual($0 as? StateLoadError, StateLoadError(owner: "EMA", key: "gain", problem: .unexpected))
        }
        try ema.load(["weight": Tensor.zeros([2, 3]), "bias": Tensor.ones([2])])
        XCTAssertEqual(ema.shadow["bias"]?.values, [1, 1])
    }
}
