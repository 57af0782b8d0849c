// Scaled dot-product attention with bounded memory (queries in chunks; flash-style backward).
import CKernels

extension Tensor {
    /// softmax(q·kᵀ·scale)·v per batch item: q [B, Lq, D], k [B, Lk, D], v [B, Lk, Dv] → [B, Lq, Dv].
    /// The full score matrix never exists; `causal` masks keys after each query.
    public static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, scale: Float, causal: Bool = false) -> Tensor {
        let (b, lq, d) = (q.shape[0], q.shape[1], q.shape[2])
        let (lk, dv) = (k.shape[1], v.shape[2])
        guard k.shape == [b, lk, d], v.shape == [b, lk, dv] else {
            shapeFailure("attention of q \(q.shape), k \(k.shape), v \(v.shape)")
        }
        let out = Tensor(uninitializedShape: [b, lq, dv])
        let tracking = Autograd.isEnabled && (q.requiresGrad || k.requiresGrad || v.requiresGrad)
        let lse = tracking ? Tensor(uninitializedShape: [b, lq]) : nil
        check(dk_attention_forward(q.pointer, k.pointer, v.pointer, out.pointer, Int64(b), Int64(lq), Int64(lk),
                                   Int64(d), Int64(dv), scale, causal ? 1 : 0, lse?.pointer), "attention")
        guard let lse else { return out }
        return record(out, [q, k, v]) { g in
            let dq = Tensor(uninitializedShape: q.shape), dk = Tensor(uninitializedShape: k.shape)
            let dvT = Tensor(uninitializedShape: v.shape)
            check(dk_attention_backward(q.pointer, k.pointer, v.pointer, out.pointer, g.pointer, lse.pointer,
                                        dq.pointer, dk.pointer, dvT.pointer, Int64(b), Int64(lq), Int64(lk),
                                        Int64(d), Int64(dv), scale, causal ? 1 : 0), "attention backward")
            return [dq, dk, dvT]
        }
    }

    /// Multi-head attention on the projections' own layout: q [B, Lq, heads·D], k [B, Lk, heads·D],
    /// v [B, Lk, heads·Dv] → [B, Lq, heads·Dv]; the same values as splitting the heads, attending
    /// and merging them. Without gradients the kernel reads and writes the heads in place,
    /// saving four permuted copies.
    public static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, scale: Float,
                                 causal: Bool = false) -> Tensor {
        guard q.rank == 3, k.rank == 3, v.rank == 3, heads > 0, q.shape[2] % heads == 0, v.shape[2] % heads == 0,
              k.shape[0] == q.shape[0], k.shape[2] == q.shape[2], v.shape[0] == q.shape[0], v.shape[1] == k.shape[1] else {
            shapeFailure("attention with \(heads) heads of q \(q.shape), k \(k.shape), v \(v.shape)")
        }
        let (b, lq, lk) = (q.shape[0], q.shape[1], k.shape[1])
        let (d, dv) = (q.shape[2] / heads, v.shape[2] / heads)
        let tracking = Autograd.isEnabled && (q.requiresGrad || k.requiresGrad || v.requiresGrad)
        guard !tracking else {
            func split(_ t: Tensor, _ width: Int) -> Tensor {  // [B, L, h·w] → [B·h, L, w]
                t.reshaped([b, t.shape[1], heads, width]).permuted([0, 2, 1, 3]).reshaped([b * heads, t.shape[1], width])
            }
            let out = attention(split(q, d), split(k, d), split(v, dv), scale: scale, causal: causal)
            return out.reshaped([b, heads, lq, dv]).permuted([0, 2, 1, 3]).reshaped([b, lq, heads * dv])
        }
        let out = Tensor(uninitializedShape: [b, lq, heads * dv])
        check(dk_attention_forward_heads(q.pointer, k.pointer, v.pointer, out.pointer, Int64(b), Int64(heads),
                                         Int64(lq), Int64(lk), Int64(d), Int64(dv), scale, causal ? 1 : 0),
              "attention")
        return out
    }
}
