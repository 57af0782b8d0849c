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
}
