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
        let dim = x.shape[x.rank - 1]
        let rows = x.reshaped([-1, dim])                                                   // [T, dim]
        let hidden: Tensor, gate: Tensor                                                    // [T, inner]
        if rows.shape[0] >= dim {
            // Many tokens: split the (smaller) weight and project twice.
            let weight = geluProj.weight.value, bias = geluProj.bias?.value
            hidden = Tensor.linear(rows, weight: weight.slice(axis: 0, start: 0, length: innerDim),
                                   bias: bias?.slice(axis: 0, start: 0, length: innerDim))
            gate = Tensor.linear(rows, weight: weight.slice(axis: 0, start: innerDim, length: innerDim),
                                 bias: bias?.slice(axis: 0, start: innerDim, length: innerDim))
        } else {
            // Few tokens: project once and split the (smaller) activations.
            let both = geluProj(rows)                                                       // [T, 2·inner]
            hidden = both.slice(axis: 1, start: 0, length: innerDim)
            gate = both.slice(axis: 1, start: innerDim, length: innerDim)
        }
        let out = outProj(hidden * gate.gelu())                                             // [B·L, dim]
        return out.reshaped(x.shape)
    }
}
