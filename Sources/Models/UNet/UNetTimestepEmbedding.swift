// Timestep embedding of the U-Net: diffusers' get_timestep_embedding (Timesteps) and TimestepEmbedding MLP.
import Foundation
import NN
import TensorCore

/// diffusers `TimestepEmbedding` (linear_1 → SiLU → linear_2), fed by the sinusoidal projection.
public final class UNetTimestepEmbedding: Module {
    public let linear1: Linear
    public let linear2: Linear

    public init(inputDim: Int, embedDim: Int, initializer: inout Initializer) {
        linear1 = Linear(inputDim, embedDim, initializer: &initializer)
        linear2 = Linear(embedDim, embedDim, initializer: &initializer)
    }

    public var children: [(String, Module)] { [("linear_1", linear1), ("linear_2", linear2)] }

    /// [N, inputDim] → [N, embedDim]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        linear2(linear1(x).silu())
    }

    /// diffusers `get_timestep_embedding` in float32, as diffusers computes it: frequencies
    /// exp(-ln(10000)·i / (half − shift)), arguments t·freq, then [sin, cos] (or [cos, sin] when
    /// `flipSinToCos`), zero-padded to an odd `dim`. Returns [N, dim] (no gradient: inputs are data).
    public static func sinusoidal(_ timesteps: [Float], dim: Int, flipSinToCos: Bool, downscaleFreqShift: Double) -> Tensor {
        let half = dim / 2
        let result = Tensor.zeros([timesteps.count, dim])
        // torch: exponent = -math.log(10000) * arange(half, float32); exponent / (half - shift); exp.
        let logPeriod = Float(-Foundation.log(10000.0))
        let denominator = Float(Double(half) - downscaleFreqShift)
        let frequencies = (0..<half).map { Foundation.exp(logPeriod * Float($0) / denominator) }
        for (row, t) in timesteps.enumerated() {
            let out = result.pointer + row * dim
            let (sinOffset, cosOffset) = flipSinToCos ? (half, 0) : (0, half)
            for i in 0..<half {
                let argument = t * frequencies[i]
                out[sinOffset + i] = Foundation.sin(argument)
                out[cosOffset + i] = Foundation.cos(argument)
            }
        }
        return result
    }
}
