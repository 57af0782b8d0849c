// Multi-head attention with diffusers' parameter names (to_q, to_k, to_v, to_out.0); matches
// diffusers Attention with AttnProcessor (no norms, no residual inside).
import TensorCore

public final class Attention: Module {
    public let heads: Int
    public let headDim: Int
    public let toQ: Linear, toK: Linear, toV: Linear, toOut: Linear
    /// When set, sees every call's queries and keys (for attention maps); nil costs nothing.
    public var probe: AttentionProbe?
    /// `upcast_attention` needs nothing here: attention is computed in float32 throughout.
    public init(queryDim: Int, contextDim: Int? = nil, heads: Int, headDim: Int, bias: Bool = false,
                outBias: Bool = true, initializer: inout Initializer) {
        let inner = heads * headDim
        self.heads = heads
        self.headDim = headDim
        toQ = Linear(queryDim, inner, bias: bias, initializer: &initializer)
        toK = Linear(contextDim ?? queryDim, inner, bias: bias, initializer: &initializer)
        toV = Linear(contextDim ?? queryDim, inner, bias: bias, initializer: &initializer)
        toOut = Linear(inner, queryDim, bias: outBias, initializer: &initializer)
    }

    public var children: [(String, Module)] {
        [("to_q", toQ), ("to_k", toK), ("to_v", toV), ("to_out.0", toOut)]
    }

    /// x [B, L, queryDim], context [B, S, contextDim] (self-attention when nil) → [B, L, queryDim].
    public func callAsFunction(_ x: Tensor, context: Tensor? = nil) -> Tensor {
        // bf16: the projections read one bf16 copy of their input instead of converting it each
        // (and in training keep that one copy for their weight gradients, not three).
        let shared = ComputePrecision.mode == .bfloat16
        let input = shared ? x.sharedInBFloat16() : x
        let source = context.map { shared ? $0.sharedInBFloat16() : $0 } ?? input
        let q = toQ(input), k = toK(source), v = toV(source)                  // [B, L or S, h*dh]
        let scale = 1 / Float(headDim).squareRoot()
        probe?.observe(queries: splitHeads(q), keys: splitHeads(k), heads: heads, scale: scale)
        return toOut(Tensor.attention(q, k, v, heads: heads, scale: scale))  // [B, L, h*dh]
    }

    /// [B, L, h*dh] → [B*h, L, dh]
    public func splitHeads(_ t: Tensor) -> Tensor {
        let (b, l) = (t.shape[0], t.shape[1])
        return t.reshaped([b, l, heads, headDim]).permuted([0, 2, 1, 3]).reshaped([b * heads, l, headDim])
    }
}

/// Receives an attention layer's queries [B·heads, L, dh] and keys [B·heads, S, dh].
public protocol AttentionProbe: AnyObject {
    func observe(queries: Tensor, keys: Tensor, heads: Int, scale: Float)
}

extension Module {
    /// Every attention layer below this module whose key ends with `suffix` (e.g. "attn2").
    public func attentionLayers(named suffix: String, prefix: String = "") -> [(key: String, layer: Attention)] {
        var found: [(key: String, layer: Attention)] = []
        for (name, child) in children {
            let key = prefix.isEmpty ? name : prefix + "." + name
            if let attention = child as? Attention, name.hasSuffix(suffix) { found.append((key, attention)) }
            found += child.attentionLayers(named: suffix, prefix: key)
        }
        return found
    }
}
