// AdamW against torch.optim.AdamW's update written out in Double, over several threads' chunks.
import Foundation
import NN
import TensorCore
import TestSupport
import XCTest

final class AdamWTests: XCTestCase {
    func testAdamWFollowsTorchFormula() {
        let count = 70_001  // several chunks
        let start = testTensor([count], seed: 13), grads = [testTensor([count], seed: 14), testTensor([count], seed: 15)]
        let parameter = Parameter(start.copy())
        let optimizer = AdamW(parameters: [("w", parameter)], learningRate: 1e-2, weightDecay: 0.1)
        var w = start.values.map(Double.init), m = [Double](repeating: 0, count: count), v = m
        for (step, grad) in grads.enumerated() {
            parameter.zeroGrad()
            (parameter.value * grad).sum().backward()  // d/dw of Σ w·g is g
            optimizer.update(gradientScale: 0.5)
            let t = Double(step + 1), g = grad.values.map { Double($0) * 0.5 }
            for i in 0..<count {
                w[i] *= 1 - 1e-2 * 0.1
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                let mHat = m[i] / (1 - pow(0.9, t)), vHat = v[i] / (1 - pow(0.999, t))
                w[i] -= 1e-2 * mHat / (vHat.squareRoot() + 1e-8)
            }
        }
        assertClose(parameter.value.values, w.map(Float.init), absolute: 1e-5, "two AdamW steps")
    }

}
