// GEGLU feed-forward of a transformer block; matches diffusers FeedForward(activation_fn="geglu").
import NN
import TensorCore

public final class UNetFeedForward: Module {
    /// `net.0.proj`: dim → 2·inner, the value half then the gate half (diffusers GEGLU).
    public let geluProj: Linear
    /// `net.2`: inner → dim (`net.1` is dropout and holds no weights).
    public let outProj: Linear
    public let innerDim: Int

    public init(dim: Int, innerDim: Int, initializer: inout Initializer) {
        self.innerDim = innerDim
        geluProj = Linear(dim, 2 * innerDim, initializer: &initializer)
        outProj = Linear(innerDim, dim, initializer: &initializer)
    }

    public var children: [(String, Module)] { [("net.0.proj", geluProj), ("net.2", outProj)] }

    /// x [B, L, dim] → [B, L, dim]: out(hidden · gelu(gate)), where [hidden, gate] = proj(x).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let rows = x.reshaped([-1, x.shape[x.rank - 1]])     // [T, dim]
        // bf16: the projection is stored in bf16 for GEGLU (the widest activation of the block, and
        // its gradient the projection's bf16 products' operand); GEGLU writes bf16 for the output
        // layer, which reads it (and keeps it for its weight gradient) as it is.
        let bf16 = ComputePrecision.mode == .bfloat16
        let projected = geluProj(rows, outputInBFloat16: bf16)  // [T, 2·inner]
        let gated = bf16 ? projected.gegluStoredInBFloat16() : projected.geglu()  // [T, inner]
        return outProj(gated).reshaped(x.shape)              // [T, dim]
    }
}
