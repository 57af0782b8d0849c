// Scaled dot-product attention with bounded memory (queries in chunks; flash-style backward).
import CKernels

extension Tensor {
    /// softmax(q·kᵀ·scale)·v per batch item: q [B, Lq, D], k [B, Lk, D], v [B, Lk, Dv] → [B, Lq, Dv].
    /// The full score matrix never exists; `causal` masks keys after each query.
    public static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, scale: Float, causal: Bool = false) -> Tensor {
        guard q.rank == 3, k.rank == 3, k.shape == [q.shape[0], k.shape[1], q.shape[2]], v.rank == 3,
              v.shape[0] == q.shape[0], v.shape[1] == k.shape[1] else {
            shapeFailure("attention of q \(q.shape), k \(k.shape), v \(v.shape)")
        }
        return attention(q, k, v, heads: 1, scale: scale, causal: causal)
    }

    /// Multi-head attention on the projections' own layout: q [B, Lq, heads·D], k [B, Lk, heads·D],
    /// v [B, Lk, heads·Dv] → [B, Lq, heads·Dv]; the same values as splitting the heads, attending
    /// and merging them. Both passes read and write the heads in place: no permuted copies of
    /// q, k, v, the output or their gradients.
    public static func attention(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, scale: Float,
                                 causal: Bool = false) -> Tensor {
        guard q.rank == 3, k.rank == 3, v.rank == 3, heads > 0, q.shape[2] % heads == 0, v.shape[2] % heads == 0,
              k.shape[0] == q.shape[0], k.shape[2] == q.shape[2], v.shape[0] == q.shape[0], v.shape[1] == k.shape[1] else {
            shapeFailure("attention with \(heads) heads of q \(q.shape), k \(k.shape), v \(v.shape)")
        }
        let (b, lq, lk) = (q.shape[0], q.shape[1], k.shape[1])
        let (d, dv) = (q.shape[2] / heads, v.shape[2] / heads)
        let out = Tensor(uninitializedShape: [b, lq, heads * dv])
        let tracking = Autograd.isEnabled && (q.requiresGrad || k.requiresGrad || v.requiresGrad)
        let lse = tracking ? Tensor(uninitializedShape: [b, heads, lq]) : nil  // the backward's softmax statistics
        OpProfile.measure(.attention) {
            check(dk_attention_forward_heads(q.pointer, k.pointer, v.pointer, out.pointer, Int64(b), Int64(heads),
                                             Int64(lq), Int64(lk), Int64(d), Int64(dv), scale, causal ? 1 : 0,
                                             lse?.pointer), "attention")
        }
        guard let lse else { return out }
        return record(out, [q, k, v]) { g in
            OpProfile.measure(.attention, .backward) {
                let dq = Tensor(uninitializedShape: q.shape), dk = Tensor(uninitializedShape: k.shape)
                let dvT = Tensor(uninitializedShape: v.shape)
                check(dk_attention_backward_heads(q.pointer, k.pointer, v.pointer, out.pointer, g.pointer, lse.pointer,
                                                  dq.pointer, dk.pointer, dvT.pointer, Int64(b), Int64(heads), Int64(lq),
                                                  Int64(lk), Int64(d), Int64(dv), scale, causal ? 1 : 0),
                      "attention backward")
                return [dq, dk, dvT]
            }
        }
    }
}
