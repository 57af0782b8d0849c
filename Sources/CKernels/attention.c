// Scaled dot-product attention in query chunks (bounded memory), forward and flash-style backward.
#include "attention.h"
#include "dk_math.h"
#include <dnnl.h>
#include <stdlib.h>

// Rows of S become unnormalised probabilities exp(s - max), their sums' inverses go to inv[r];
// entries at or past `valid` (causal mask) become 0. Normalising the [m, Dv] output after the
// second GEMM instead of the [m, kn] scores saves a pass over them.
DK_HOT static void softmax_chunk(float *restrict S, float *restrict inv, float *restrict lse, int64_t m,
                                 int64_t kn, int64_t i0, int causal) {
    for (int64_t r = 0; r < m; r++) {
        float *row = S + r * kn;
        int64_t valid = causal ? min64(kn, i0 + r + 1) : kn;
        float mx = dk_max(row, valid);
        float acc[DK_LANES] = {0};
        int64_t j = 0;
        for (; j + DK_LANES <= valid; j += DK_LANES)
            for (int l = 0; l < DK_LANES; l++) acc[l] += row[j + l] = dk_exp(row[j + l] - mx);
        float sum = 0.0f;
        for (; j < valid; j++) sum += row[j] = dk_exp(row[j] - mx);
        for (int l = 0; l < DK_LANES; l++) sum += acc[l];
        for (j = valid; j < kn; j++) row[j] = 0.0f;
        inv[r] = 1.0f / sum;
        if (lse) lse[r] = mx + logf(sum);
    }
}

static void fwd_body(void *p, int64_t begin, int64_t end) {
    att_ctx *c = p;
    float *S = dk_alloc_floats(QC * c->Lk), inv[QC];
    if (!S) { c->err = DK_ERR_ALLOC; return; }
    for (int64_t t = begin; t < end; t++) {
        int64_t b = t / c->nch, i0 = (t % c->nch) * QC, m = min64(QC, c->Lq - i0);
        int64_t kn = c->causal ? min64(c->Lk, i0 + m) : c->Lk;  // keys any row of the chunk can see
        const int64_t ldq = c->H * c->D, ldv = c->H * c->Dv;
        const float *qc = c->q + entry_start(c, b, c->Lq, c->D) + i0 * ldq;
        // S [m, kn] = scale * Qc [m, D] . K^T [D, kn]
        dnnl_sgemm('N', 'T', m, kn, c->D, c->scale, qc, ldq, c->k + entry_start(c, b, c->Lk, c->D), ldq, 0.0f, S, kn);
        softmax_chunk(S, inv, c->lse ? c->lse + b * c->Lq + i0 : NULL, m, kn, i0, c->causal);
        if (c->bf16) dk_round_bf16(S, S, m * kn);
        // out [m, Dv] = (P [m, kn] . V [kn, Dv]) / row sums
        float *o = c->o + entry_start(c, b, c->Lq, c->Dv) + i0 * ldv;
        dnnl_sgemm('N', 'N', m, c->Dv, kn, 1.0f, S, kn, c->v + entry_start(c, b, c->Lk, c->Dv), ldv, 0.0f, o, ldv);
        for (int64_t r = 0; r < m; r++)
            for (int64_t d = 0; d < c->Dv; d++) o[r * ldv + d] *= inv[r];
    }
    dk_free(S);
}

static int check(const void *q, const void *k, const void *v, const void *o, int64_t B, int64_t Lq, int64_t Lk,
                 int64_t D, int64_t Dv) {
    if (B < 0 || Lq < 0 || Lk <= 0 || D <= 0 || Dv <= 0) return DK_ERR_SHAPE;
    if (Lk > INT32_MAX || D > INT32_MAX || Dv > INT32_MAX) return DK_ERR_SHAPE;
    if (B && Lq && (!q || !k || !v || !o)) return DK_ERR_ARG;
    return 0;
}

static int forward(const float *q, const float *k, const float *v, float *out, int64_t N, int64_t H, int64_t Lq,
                   int64_t Lk, int64_t D, int64_t Dv, float scale, int causal, float *lse_out) {
    if (H <= 0 || N < 0 || N > INT64_MAX / H) return DK_ERR_SHAPE;
    int64_t B = N * H;
    int rc = check(q, k, v, out, B, Lq, Lk, D, Dv);
    if (rc || B == 0 || Lq == 0) return rc;
    att_ctx c = {.q = q, .k = k, .v = v, .o = out, .lse = lse_out, .B = B, .Lq = Lq, .Lk = Lk, .D = D,
                 .Dv = Dv, .nch = (Lq + QC - 1) / QC, .scale = scale, .causal = causal, .H = H};
    // Native bf16: both products on bf16 operands (q, k, v converted once, the probabilities per
    // block), as the emulated path below computes them.
    if (dk_get_precision() == DK_PRECISION_BF16 && dk_bf16_gemm_available()) return dk_attention_forward_native(&c);
    if (dk_get_precision() != DK_PRECISION_BF16_EMULATED) {
        dk_parallel_for(B * c.nch, 1, &c, fwd_body);
        return c.err;
    }
    // Emulated bf16: both products read bf16 values (q, k, v rounded once, the probabilities per
    // chunk) and accumulate in float32; the softmax's max, sums and logsumexp stay float32.
    int64_t nq = B * Lq * D, nk = B * Lk * D, nv = B * Lk * Dv;
    float *rq = dk_alloc_floats(nq + nk + nv);
    if (!rq) return DK_ERR_ALLOC;
    dk_round_bf16(q, rq, nq);
    dk_round_bf16(k, rq + nq, nk);
    dk_round_bf16(v, rq + nq + nk, nv);
    c.q = rq;
    c.k = rq + nq;
    c.v = rq + nq + nk;
    c.bf16 = 1;
    dk_parallel_for(B * c.nch, 1, &c, fwd_body);
    dk_free(rq);
    return c.err;
}

int dk_attention_forward(const float *q, const float *k, const float *v, float *out, int64_t B, int64_t Lq,
                         int64_t Lk, int64_t D, int64_t Dv, float scale, int causal, float *lse_out) {
    return forward(q, k, v, out, B, 1, Lq, Lk, D, Dv, scale, causal, lse_out);
}

int dk_attention_forward_heads(const float *q, const float *k, const float *v, float *out, int64_t N, int64_t H,
                               int64_t Lq, int64_t Lk, int64_t D, int64_t Dv, float scale, int causal, float *lse_out) {
    return forward(q, k, v, out, N, H, Lq, Lk, D, Dv, scale, causal, lse_out);
}

// P = exp(S - lse) (masked), then dS = scale * P * (dP - delta) in place over dP.
DK_HOT static void bwd_probs(float *restrict S, float *restrict dP, const float *restrict lse,
                             const float *restrict delta, int64_t m, int64_t kn, int64_t i0, int causal,
                             float scale) {
    for (int64_t r = 0; r < m; r++) {
        float *s = S + r * kn, *g = dP + r * kn;
        int64_t valid = causal ? min64(kn, i0 + r + 1) : kn;
        float l = lse[r], d = delta[r];
        for (int64_t j = 0; j < valid; j++) s[j] = dk_exp(s[j] - l);
        for (int64_t j = valid; j < kn; j++) s[j] = 0.0f;
        for (int64_t j = 0; j < kn; j++) g[j] = scale * s[j] * (g[j] - d);
    }
}

static void bwd_body(void *p, int64_t begin, int64_t end) {
    att_ctx *c = p;
    const int64_t D = c->D, Dv = c->Dv, Lk = c->Lk, Lq = c->Lq, ldq = c->H * D, ldv = c->H * Dv;
    float *S = dk_alloc_floats(2 * QC * Lk + QC);
    if (!S) { c->err = DK_ERR_ALLOC; return; }
    float *dP = S + QC * Lk, *delta = dP + QC * Lk;
    for (int64_t t = begin; t < end; t++) {  // t = b * groups + g
        int64_t b = t / c->groups, g = t % c->groups;
        // dK [Lk, D], dV [Lk, Dv]: the entry's own rows, or with groups its partials [Lk, D + Dv]
        float *dK = c->dk + entry_start(c, b, Lk, D), *dV = c->dv + entry_start(c, b, Lk, Dv);
        int64_t ldk = ldq, lddv = ldv;
        if (c->groups > 1) {
            dK = c->part + t * Lk * (D + Dv);
            dV = dK + Lk * D;
            ldk = D;
            lddv = Dv;
        }
        for (int64_t j = 0; j < Lk; j++) {
            for (int64_t d = 0; d < D; d++) dK[j * ldk + d] = 0.0f;
            for (int64_t d = 0; d < Dv; d++) dV[j * lddv + d] = 0.0f;
        }
        const float *kb = c->k + entry_start(c, b, Lk, D), *vb = c->v + entry_start(c, b, Lk, Dv);
        int64_t ch0 = c->nch * g / c->groups, ch1 = c->nch * (g + 1) / c->groups;
        for (int64_t ch = ch0; ch < ch1; ch++) {
            int64_t i0 = ch * QC, m = min64(QC, Lq - i0), kn = c->causal ? min64(Lk, i0 + m) : Lk;
            const float *qc = c->q + entry_start(c, b, Lq, D) + i0 * ldq;
            const float *doc = c->dout + entry_start(c, b, Lq, Dv) + i0 * ldv;
            const float *oc = c->out + entry_start(c, b, Lq, Dv) + i0 * ldv;
            for (int64_t r = 0; r < m; r++) delta[r] = dk_dot(doc + r * ldv, oc + r * ldv, Dv);
            // S [m, kn] = scale * Qc . K^T;  dP [m, kn] = dOc . V^T
            dnnl_sgemm('N', 'T', m, kn, D, c->scale, qc, ldq, kb, ldq, 0.0f, S, kn);
            dnnl_sgemm('N', 'T', m, kn, Dv, 1.0f, doc, ldv, vb, ldv, 0.0f, dP, kn);
            bwd_probs(S, dP, c->lse_in + b * Lq + i0, delta, m, kn, i0, c->causal, c->scale);
            if (c->bf16) {
                dk_round_bf16(S, S, m * kn);
                dk_round_bf16(dP, dP, m * kn);
            }
            // dV [kn, Dv] += P^T . dOc;  dQc [m, D] = dS . K;  dK [kn, D] += dS^T . Qc
            dnnl_sgemm('T', 'N', kn, Dv, m, 1.0f, S, kn, doc, ldv, 1.0f, dV, lddv);
            dnnl_sgemm('N', 'N', m, D, kn, 1.0f, dP, kn, kb, ldq, 0.0f, c->dq + entry_start(c, b, Lq, D) + i0 * ldq, ldq);
            dnnl_sgemm('T', 'N', kn, D, m, 1.0f, dP, kn, qc, ldq, 1.0f, dK, ldk);
        }
    }
    dk_free(S);
}

// dk, dv [b] = sum over groups of the partials, in group order.
static void reduce_body(void *p, int64_t begin, int64_t end) {
    att_ctx *c = p;
    const int64_t D = c->D, Dv = c->Dv, per = c->Lk * (D + Dv);
    for (int64_t e = begin; e < end; e++) {  // e = b * Lk + j
        int64_t b = e / c->Lk, j = e % c->Lk;
        const float *part = c->part + b * c->groups * per;
        float *dk = c->dk + entry_start(c, b, c->Lk, D) + j * c->H * D;
        float *dv = c->dv + entry_start(c, b, c->Lk, Dv) + j * c->H * Dv;
        for (int64_t d = 0; d < D; d++) {
            float s = 0.0f;
            for (int64_t g = 0; g < c->groups; g++) s += part[g * per + j * D + d];
            dk[d] = s;
        }
        for (int64_t d = 0; d < Dv; d++) {
            float s = 0.0f;
            for (int64_t g = 0; g < c->groups; g++) s += part[g * per + c->Lk * D + j * Dv + d];
            dv[d] = s;
        }
    }
}

int dk_attention_backward_heads(const float *q, const float *k, const float *v, const float *out, const float *dout,
                                const float *lse, float *dq, float *dk, float *dv, int64_t N, int64_t H, int64_t Lq,
                                int64_t Lk, int64_t D, int64_t Dv, float scale, int causal) {
    if (H <= 0 || N < 0 || N > INT64_MAX / H) return DK_ERR_SHAPE;
    int64_t B = N * H;
    int rc = check(q, k, v, out, B, Lq, Lk, D, Dv);
    if (rc || B == 0) return rc;
    if (!dk || !dv || (Lq && (!dout || !lse || !dq))) return DK_ERR_ARG;
    int64_t nch = (Lq + QC - 1) / QC;
    // Query groups per batch entry with their own dK/dV partials: a function of the shape only,
    // so results are the same whatever the thread count.
    int64_t groups = min64(nch, (8 + B - 1) / B);
    if (groups < 1) groups = 1;
    att_ctx c = {.H = H, .q = q, .k = k, .v = v, .out = out, .dout = dout, .lse_in = lse, .dq = dq, .dk = dk, .dv = dv,
                 .B = B, .Lq = Lq, .Lk = Lk, .D = D, .Dv = Dv, .nch = nch, .groups = groups, .scale = scale,
                 .causal = causal};
    if (dk_get_precision() == DK_PRECISION_BF16 && dk_bf16_gemm_available() && Lq) return dk_attention_backward_native(&c);
    // Emulated bf16: every product reads bf16 values (q, k, v and the output gradient rounded
    // once, the probabilities and their gradients per chunk); delta and the sums stay float32.
    float *rounded = NULL;
    if (dk_get_precision() == DK_PRECISION_BF16_EMULATED && Lq) {
        int64_t nq = B * Lq * D, nk = B * Lk * D, nv = B * Lk * Dv, no = B * Lq * Dv;
        if (!(rounded = dk_alloc_floats(nq + nk + nv + no))) return DK_ERR_ALLOC;
        dk_round_bf16(q, rounded, nq);
        dk_round_bf16(k, rounded + nq, nk);
        dk_round_bf16(v, rounded + nq + nk, nv);
        dk_round_bf16(dout, rounded + nq + nk + nv, no);
        c.q = rounded;
        c.k = rounded + nq;
        c.v = rounded + nq + nk;
        c.dout = rounded + nq + nk + nv;
        c.bf16 = 1;
    }
    if (groups > 1 && !(c.part = dk_alloc_floats(B * groups * Lk * (D + Dv)))) {
        dk_free(rounded);
        return DK_ERR_ALLOC;
    }
    dk_parallel_for(B * groups, 1, &c, bwd_body);
    if (groups > 1 && !c.err) dk_parallel_for(B * Lk, 256, &c, reduce_body);
    dk_free(c.part);
    dk_free(rounded);
    return c.err;
}

int dk_attention_backward(const float *q, const float *k, const float *v, const float *out, const float *dout,
                          const float *lse, float *dq, float *dk, float *dv, int64_t B, int64_t Lq, int64_t Lk,
                          int64_t D, int64_t Dv, float scale, int causal) {
    return dk_attention_backward_heads(q, k, v, out, dout, lse, dq, dk, dv, B, 1, Lq, Lk, D, Dv, scale, causal);
}
