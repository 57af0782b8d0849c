// Scaled dot-product attention in query chunks (bounded memory), forward and flash-style backward.
#include "CKernels.h"
#include "dk_math.h"
#include <dnnl.h>
#include <immintrin.h>
#include <stdlib.h>

#define QC DK_ATTENTION_CHUNK

typedef struct {
    const float *q, *k, *v, *out, *dout, *lse_in;
    const uint16_t *q16, *k16, *v16;  // native bf16: q as rows, k and v packed in pairs (dk_bf16_gemm)
    int64_t Dp, Lkp, Vw;              // D rounded up to even; Lk and Dv rounded up to packed panels (64)
    float *o, *lse, *dq, *dk, *dv, *part;
    int64_t B, Lq, Lk, D, Dv, nch, groups;
    int64_t H;  // forward: batch entry b is head b % H of item b / H, rows H * D (H * Dv) apart
    float scale;
    int causal, bf16;  // bf16: probabilities (and their gradients) enter the products rounded to bf16
    volatile int err;
} att_ctx;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Batch entry b's first row in a [B / H, L, H * width] tensor (heads side by side in each row).
static int64_t entry_start(const att_ctx *c, int64_t b, int64_t L, int64_t width) {
    return (b / c->H * L * c->H + b % c->H) * width;
}

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

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// 2^t for t <= 0 of any size: 2^round(t) * p(t - round(t)), p Cephes exp2f's polynomial (2e-7
// relative), scalef flushing underflow to 0. Half the instructions of dk_exp's clamps, ln 2 split
// and integer exponent.
BF16_TARGET static inline __m512 exp2_nonpositive(__m512 t) {
    __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, n);
    __m512 p = _mm512_set1_ps(1.535336188319500e-4f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.339887440266574e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.618437357674640e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.550332471162809e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402264791363012e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.931472028550421e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

static __mmask16 first_lanes(int64_t n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1); }

// softmax_chunk for the native bf16 path, on unscaled scores S = Q . K^T: the scale folds into the
// exponent, exp(scale s - top) = 2^(s c - top log2 e) with c = scale log2 e and top the row's
// largest scaled score (scale times its largest score, or its smallest for a negative scale). The
// probabilities go straight into bf16 rows P [m, ldp] (zero from `valid` on), the operand of the
// second product, instead of back into S and through a conversion pass.
BF16_TARGET static void softmax_chunk_bf16(const float *restrict S, uint16_t *restrict P, int64_t ldp,
                                           float *restrict inv, float *restrict lse, int64_t m, int64_t kn,
                                           int64_t i0, int causal, float scale) {
    const float c = scale * 1.44269504088896341f;
    for (int64_t r = 0; r < m; r++) {
        const float *row = S + r * kn;
        uint16_t *out = P + r * ldp;
        int64_t valid = causal ? min64(kn, i0 + r + 1) : kn, j = 0;
        __m512 vmax = _mm512_set1_ps(-INFINITY), vmin = _mm512_set1_ps(INFINITY);
        for (; j < valid; j += 16) {
            __m512 x = _mm512_maskz_loadu_ps(first_lanes(valid - j), row + j);
            vmax = _mm512_mask_max_ps(vmax, first_lanes(valid - j), vmax, x);
            vmin = _mm512_mask_min_ps(vmin, first_lanes(valid - j), vmin, x);
        }
        float top = scale >= 0.0f ? scale * _mm512_reduce_max_ps(vmax) : scale * _mm512_reduce_min_ps(vmin);
        __m512 vc = _mm512_set1_ps(c), offset = _mm512_set1_ps(top * 1.44269504088896341f);
        __m512 sum0 = _mm512_setzero_ps(), sum1 = sum0;
        for (j = 0; j + 32 <= valid; j += 32) {
            __m512 e0 = exp2_nonpositive(_mm512_fmsub_ps(_mm512_loadu_ps(row + j), vc, offset));
            __m512 e1 = exp2_nonpositive(_mm512_fmsub_ps(_mm512_loadu_ps(row + j + 16), vc, offset));
            sum0 = _mm512_add_ps(sum0, e0);
            sum1 = _mm512_add_ps(sum1, e1);
            _mm512_storeu_si512(out + j, (__m512i)_mm512_cvtne2ps_pbh(e1, e0));
        }
        for (; j < valid; j += 16) {
            __mmask16 lanes = first_lanes(valid - j);
            __m512 e = _mm512_maskz_mov_ps(lanes, exp2_nonpositive(_mm512_fmsub_ps(_mm512_maskz_loadu_ps(lanes, row + j), vc, offset)));
            sum0 = _mm512_add_ps(sum0, e);
            _mm256_mask_storeu_epi16(out + j, lanes, (__m256i)_mm512_cvtneps_pbh(e));
        }
        for (j = valid; j < ldp; j++) out[j] = 0;
        float sum = _mm512_reduce_add_ps(_mm512_add_ps(sum0, sum1));
        inv[r] = 1.0f / sum;
        if (lse) lse[r] = top + logf(sum);
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

// Native bf16: the chunk in blocks of SUB rows, whose scores [SUB, Lk] stay in the L2 cache.
#define SUB 48

// bf16 values in one batch entry's packed v: (Lk + 1) / 2 pairs of rows, Vw columns.
static int64_t v_panel(const att_ctx *c) { return (c->Lk + 1) / 2 * 2 * c->Vw; }

static void fwd_body_bf16(void *p, int64_t begin, int64_t end) {
    att_ctx *c = p;
    int64_t knp = (c->Lk + 1) / 2 * 2;
    float *S = dk_alloc_floats(SUB * c->Lk + SUB * knp / 2), inv[SUB];
    if (!S) { c->err = DK_ERR_ALLOC; return; }
    uint16_t *P = (uint16_t *)(S + SUB * c->Lk);
    for (int64_t t = begin; t < end; t++) {
        int64_t b = t / c->nch, i0 = (t % c->nch) * QC, m = min64(QC, c->Lq - i0);
        for (int64_t s0 = 0; s0 < m; s0 += SUB) {
            int64_t rows = min64(SUB, m - s0), r0 = i0 + s0;
            int64_t kn = c->causal ? min64(c->Lk, r0 + rows) : c->Lk, kp = (kn + 1) / 2;
            // S [rows, kn] = Q [rows, D] . K^T [D, kn], scaled in the softmax
            dk_bf16_gemm(rows, kn, c->Dp / 2, c->q16 + (b * c->Lq + r0) * c->Dp, c->Dp,
                         c->k16 + b * c->Dp * c->Lkp, c->Dp / 2, 1.0f, NULL, S, kn);
            softmax_chunk_bf16(S, P, 2 * kp, inv, c->lse ? c->lse + b * c->Lq + r0 : NULL, rows, kn, r0, c->causal,
                               c->scale);
            // out [rows, Dv] = (P [rows, kn] . V [kn, Dv]) / row sums
            dk_bf16_gemm(rows, c->Dv, kp, P, 2 * kp, c->v16 + b * v_panel(c), (c->Lk + 1) / 2, 1.0f, inv,
                         c->o + entry_start(c, b, c->Lq, c->Dv) + r0 * c->H * c->Dv, c->H * c->Dv);
        }
    }
    dk_free(S);
}

// Converts q to bf16 rows and packs k, v in pairs, per batch entry.
static void bf16_operands_body(void *p, int64_t begin, int64_t end) {
    att_ctx *c = p;
    for (int64_t b = begin; b < end; b++) {
        const int64_t ld = c->H * c->D, ldv = c->H * c->Dv;
        dk_bf16_pack_rows(c->q + entry_start(c, b, c->Lq, c->D), c->Lq, c->D, ld,
                          (uint16_t *)c->q16 + b * c->Lq * c->Dp, c->Dp);
        dk_bf16_pack_pairs(c->k + entry_start(c, b, c->Lk, c->D), c->D, c->Lk, ld, 1,
                           (uint16_t *)c->k16 + b * c->Dp * c->Lkp);
        dk_bf16_pack_pairs(c->v + entry_start(c, b, c->Lk, c->Dv), c->Lk, c->Dv, ldv, 0,
                           (uint16_t *)c->v16 + b * v_panel(c));
    }
}

static int forward_bf16(att_ctx *c) {
    c->Dp = (c->D + 1) / 2 * 2;
    c->Lkp = dk_bf16_pairs_width(c->Lk);
    c->Vw = dk_bf16_pairs_width(c->Dv);
    int64_t nq = c->B * c->Lq * c->Dp, nk = c->B * c->Dp * c->Lkp, nv = c->B * v_panel(c);
    uint16_t *buf = (uint16_t *)dk_alloc_floats((nq + nk + nv + 1) / 2);
    if (!buf) return DK_ERR_ALLOC;
    c->q16 = buf;
    c->k16 = buf + nq;
    c->v16 = buf + nq + nk;
    dk_parallel_for(c->B, 1, c, bf16_operands_body);
    dk_parallel_for(c->B * c->nch, 1, c, fwd_body_bf16);
    dk_free(buf);
    return c->err;
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
    if (dk_get_precision() == DK_PRECISION_BF16 && dk_bf16_gemm_available()) return forward_bf16(&c);
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
                               int64_t Lq, int64_t Lk, int64_t D, int64_t Dv, float scale, int causal) {
    return forward(q, k, v, out, N, H, Lq, Lk, D, Dv, scale, causal, NULL);
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
    int64_t D = c->D, Dv = c->Dv, Lk = c->Lk, Lq = c->Lq;
    float *S = dk_alloc_floats(2 * QC * Lk + QC);
    if (!S) { c->err = DK_ERR_ALLOC; return; }
    float *dP = S + QC * Lk, *delta = dP + QC * Lk;
    for (int64_t t = begin; t < end; t++) {  // t = b * groups + g
        int64_t b = t / c->groups, g = t % c->groups;
        float *dK, *dV;
        if (c->groups == 1) {
            dK = c->dk + b * Lk * D;
            dV = c->dv + b * Lk * Dv;
        } else {
            dK = c->part + t * Lk * (D + Dv);
            dV = dK + Lk * D;
        }
        for (int64_t i = 0; i < Lk * D; i++) dK[i] = 0.0f;
        for (int64_t i = 0; i < Lk * Dv; i++) dV[i] = 0.0f;
        const float *kb = c->k + b * Lk * D, *vb = c->v + b * Lk * Dv;
        int64_t ch0 = c->nch * g / c->groups, ch1 = c->nch * (g + 1) / c->groups;
        for (int64_t ch = ch0; ch < ch1; ch++) {
            int64_t i0 = ch * QC, m = min64(QC, Lq - i0), kn = c->causal ? min64(Lk, i0 + m) : Lk;
            const float *qc = c->q + (b * Lq + i0) * D, *doc = c->dout + (b * Lq + i0) * Dv;
            const float *oc = c->out + (b * Lq + i0) * Dv;
            for (int64_t r = 0; r < m; r++) delta[r] = dk_dot(doc + r * Dv, oc + r * Dv, Dv);
            // S [m, kn] = scale * Qc . K^T;  dP [m, kn] = dOc . V^T
            dnnl_sgemm('N', 'T', m, kn, D, c->scale, qc, D, kb, D, 0.0f, S, kn);
            dnnl_sgemm('N', 'T', m, kn, Dv, 1.0f, doc, Dv, vb, Dv, 0.0f, dP, kn);
            bwd_probs(S, dP, c->lse_in + b * Lq + i0, delta, m, kn, i0, c->causal, c->scale);
            if (c->bf16) {
                dk_round_bf16(S, S, m * kn);
                dk_round_bf16(dP, dP, m * kn);
            }
            // dV [kn, Dv] += P^T . dOc;  dQc [m, D] = dS . K;  dK [kn, D] += dS^T . Qc
            dnnl_sgemm('T', 'N', kn, Dv, m, 1.0f, S, kn, doc, Dv, 1.0f, dV, Dv);
            dnnl_sgemm('N', 'N', m, D, kn, 1.0f, dP, kn, kb, D, 0.0f, c->dq + (b * Lq + i0) * D, D);
            dnnl_sgemm('T', 'N', kn, D, m, 1.0f, dP, kn, qc, D, 1.0f, dK, D);
        }
    }
    dk_free(S);
}

// dk, dv [b] = sum over groups of the partials, in group order.
static void reduce_body(void *p, int64_t begin, int64_t end) {
    att_ctx *c = p;
    int64_t per = c->Lk * (c->D + c->Dv);
    for (int64_t e = begin; e < end; e++) {
        int64_t b = e / per, i = e % per;
        float s = 0.0f;
        for (int64_t g = 0; g < c->groups; g++) s += c->part[(b * c->groups + g) * per + i];
        if (i < c->Lk * c->D) c->dk[b * c->Lk * c->D + i] = s;
        else c->dv[b * c->Lk * c->Dv + i - c->Lk * c->D] = s;
    }
}

int dk_attention_backward(const float *q, const float *k, const float *v, const float *out, const float *dout,
                          const float *lse, float *dq, float *dk, float *dv, int64_t B, int64_t Lq, int64_t Lk,
                          int64_t D, int64_t Dv, float scale, int causal) {
    int rc = check(q, k, v, out, B, Lq, Lk, D, Dv);
    if (rc || B == 0) return rc;
    if (!dk || !dv || (Lq && (!dout || !lse || !dq))) return DK_ERR_ARG;
    int64_t nch = (Lq + QC - 1) / QC;
    // Query groups per batch entry with their own dK/dV partials: a function of the shape only,
    // so results are the same whatever the thread count.
    int64_t groups = min64(nch, (8 + B - 1) / B);
    if (groups < 1) groups = 1;
    att_ctx c = {.H = 1, .q = q, .k = k, .v = v, .out = out, .dout = dout, .lse_in = lse, .dq = dq, .dk = dk, .dv = dv,
                 .B = B, .Lq = Lq, .Lk = Lk, .D = D, .Dv = Dv, .nch = nch, .groups = groups, .scale = scale,
                 .causal = causal};
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
    if (groups > 1 && !c.err) dk_parallel_for(B * Lk * (D + Dv), 16384, &c, reduce_body);
    dk_free(c.part);
    dk_free(rounded);
    return c.err;
}
