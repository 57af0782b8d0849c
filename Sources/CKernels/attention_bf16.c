// Attention's native bf16 path (AVX-512 BF16, dk_bf16_gemm_available): every product on bf16
// operands with float32 accumulation (dk_bf16_gemm), inside the threads' own query blocks; the
// softmax, its statistics and the gradients' sums stay float32. The same numerics as the emulated
// path in attention.c, up to summation order and the exponential's 2.7e-6.
#include "attention.h"
#include "dk_math.h"
#include "transpose16.h"
#include <immintrin.h>
#include <string.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// 2^t for t <= 0 of any size (and a little above, where the backward's scale s - lse rounds past
// 0): 2^round(t) * p(t - round(t)), scalef flushing underflow to 0. p is a degree-4 minimax
// polynomial for 2^f on [-1/2, 1/2], 2.7e-6 relative: a thousand times below the bf16 rounding
// that every probability meets before its product, and two multiply-adds a value fewer than the
// 2e-7 of degree 6, on a path the exponentials dominate (attention's 8-wide heads).
BF16_TARGET static inline __m512 exp2_nonpositive(__m512 t) {
    __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, n);
    __m512 p = _mm512_set1_ps(9.575989504106444e-3f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5918356098221766e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.402459972417952e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9312172236628e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.999993048594243e-1f));
    return _mm512_scalef_ps(p, n);
}

// ln x for 16 finite x >= 1 (softmax row sums, whose largest term is 1): x = m 2^k with m in
// [0.75, 1.5], ln m = 2 atanh(z) for z = (m - 1) / (m + 1), |z| <= 0.2, to z^9 (the next term is
// 1e-8 of it). A row's logsumexp, without a scalar logf call per row.
BF16_TARGET static inline __m512 log_at_least_one(__m512 x) {
    __m512 k = _mm512_getexp_ps(x), m = _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    __mmask16 upper = _mm512_cmp_ps_mask(m, _mm512_set1_ps(1.5f), _CMP_GT_OQ);
    m = _mm512_mask_mul_ps(m, upper, m, _mm512_set1_ps(0.5f));
    k = _mm512_mask_add_ps(k, upper, k, _mm512_set1_ps(1.0f));
    __m512 z = _mm512_div_ps(_mm512_sub_ps(m, _mm512_set1_ps(1.0f)), _mm512_add_ps(m, _mm512_set1_ps(1.0f)));
    __m512 z2 = _mm512_mul_ps(z, z), p = _mm512_set1_ps(1.0f / 9.0f);
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(1.0f / 7.0f));
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(1.0f / 5.0f));
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(1.0f / 3.0f));
    p = _mm512_fmadd_ps(p, z2, _mm512_set1_ps(1.0f));
    return _mm512_fmadd_ps(k, _mm512_set1_ps(0.693147180559945309f), _mm512_mul_ps(_mm512_add_ps(z, z), p));
}

static __mmask16 first_lanes(int64_t n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1); }

// Native bf16: the chunk in blocks of SUB rows, whose scores [SUB, Lk] stay in the L2 cache.
#define SUB 48

// softmax_chunk for the native bf16 path, on unscaled scores S = Q . K^T: the scale folds into the
// exponent, exp(scale s - top) = 2^(s c - top log2 e) with c = scale log2 e and top the row's
// largest scaled score (scale times its largest score, or its smallest for a negative scale). The
// probabilities go straight into bf16 rows P [m, ldp] (zero from `valid` on), the operand of the
// second product, instead of back into S and through a conversion pass.
BF16_TARGET static void softmax_chunk_bf16(const float *restrict S, uint16_t *restrict P, int64_t ldp,
                                           float *restrict inv, float *restrict lse, int64_t m, int64_t kn,
                                           int64_t i0, int causal, float scale) {
    const float c = scale * 1.44269504088896341f;
    float sums[SUB], tops[SUB];  // the rows' logsumexp, 16 rows at a time after the loop
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
        sums[r] = sum;
        tops[r] = top;
    }
    if (lse)
        for (int64_t r = 0; r < m; r += 16) {
            __mmask16 rows = first_lanes(m - r);
            __m512 sum = _mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), rows, sums + r);
            _mm512_mask_storeu_ps(lse + r, rows, _mm512_add_ps(_mm512_maskz_loadu_ps(rows, tops + r), log_at_least_one(sum)));
        }
}

// Values 8 wide or less (the bench U-Net's first level) are packed narrow: dk_bf16_gemm_narrow
// fills every lane where a 64-column panel would leave half of each vector idle.
#define NARROW_WIDTH 8

// bf16 values in one batch entry's packed v: (Lk + 1) / 2 pairs of rows, Vw columns, or narrow.
static int64_t v_panel(const att_ctx *c) {
    return c->Dv <= NARROW_WIDTH ? 32 * dk_bf16_narrow_groups(c->Lk) : (c->Lk + 1) / 2 * 2 * c->Vw;
}

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
                         c->k16 + b * c->Dp * c->Lkp, c->Dp / 2, 1.0f, NULL, S, kn, 0);
            softmax_chunk_bf16(S, P, 2 * kp, inv, c->lse ? c->lse + b * c->Lq + r0 : NULL, rows, kn, r0, c->causal,
                               c->scale);
            // out [rows, Dv] = (P [rows, kn] . V [kn, Dv]) / row sums
            float *o = c->o + entry_start(c, b, c->Lq, c->Dv) + r0 * c->H * c->Dv;
            if (c->Dv <= NARROW_WIDTH)
                dk_bf16_gemm_narrow(rows, c->Dv, kp, P, 2 * kp, c->v16 + b * v_panel(c), 1.0f, inv, o, c->H * c->Dv, 0);
            else
                dk_bf16_gemm(rows, c->Dv, kp, P, 2 * kp, c->v16 + b * v_panel(c), (c->Lk + 1) / 2, 1.0f, inv, o,
                             c->H * c->Dv, 0);
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
        const float *v = c->v + entry_start(c, b, c->Lk, c->Dv);
        if (c->Dv <= NARROW_WIDTH) dk_bf16_pack_pairs_narrow(v, c->Lk, c->Dv, ldv, (uint16_t *)c->v16 + b * v_panel(c));
        else dk_bf16_pack_pairs(v, c->Lk, c->Dv, ldv, 0, (uint16_t *)c->v16 + b * v_panel(c));
    }
}

int dk_attention_forward_native(att_ctx *c) {
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

// ---- backward ----

typedef struct {
    att_ctx *c;
    uint16_t *q, *dout;  // bf16 rows [B, Lq, Dp], [B, Lq, Dvp]: left operands of S and dP
    uint16_t *kt, *vt;   // K^T, V^T packed (pairs along D, Dv): [B][Dp * Lkp], [B][Dvp * Lkp]
    uint16_t *k;         // K packed (pairs along Lk) for dQ = dS K: [B][k_panel], narrow for D <= 8
    int64_t Dp, Dvp, Lkp, Lk2, Dw;
    int64_t R;           // query rows per block, even: 64, or 32 past 1024 keys (S and dP, 2 R Lk floats, in L2)
} bwd_ctx;

// bf16 values in one batch entry's packed K for dQ.
static int64_t k_panel(const bwd_ctx *x) {
    return x->c->D <= NARROW_WIDTH ? 32 * dk_bf16_narrow_groups(x->c->Lk) : x->Lk2 * x->Dw;
}

static void bwd_operands_body(void *p, int64_t begin, int64_t end) {
    bwd_ctx *x = p;
    const att_ctx *c = x->c;
    const int64_t ld = c->H * c->D, ldv = c->H * c->Dv;
    for (int64_t b = begin; b < end; b++) {
        const float *k = c->k + entry_start(c, b, c->Lk, c->D), *v = c->v + entry_start(c, b, c->Lk, c->Dv);
        dk_bf16_pack_rows(c->q + entry_start(c, b, c->Lq, c->D), c->Lq, c->D, ld, x->q + b * c->Lq * x->Dp, x->Dp);
        dk_bf16_pack_rows(c->dout + entry_start(c, b, c->Lq, c->Dv), c->Lq, c->Dv, ldv, x->dout + b * c->Lq * x->Dvp,
                          x->Dvp);
        dk_bf16_pack_pairs(k, c->D, c->Lk, ld, 1, x->kt + b * x->Dp * x->Lkp);
        dk_bf16_pack_pairs(v, c->Dv, c->Lk, ldv, 1, x->vt + b * x->Dvp * x->Lkp);
        if (c->D <= NARROW_WIDTH) dk_bf16_pack_pairs_narrow(k, c->Lk, c->D, ld, x->k + b * k_panel(x));
        else dk_bf16_pack_pairs(k, c->Lk, c->D, ld, 0, x->k + b * k_panel(x));
    }
}

// (a, b) bf16 pairs: a in the low, b in the high half of each 32-bit lane.
BF16_TARGET static inline __m512i bf16_pairs(__m512 a, __m512 b) {
    return _mm512_or_si512(_mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(a)),
                           _mm512_slli_epi32(_mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(b)), 16));
}

// From unscaled scores S and dP = dO V^T [rows, kn]: P = exp(scale s - lse) and
// dS = scale P (dP - delta), both masked past each row's valid keys, written as bf16 in the three
// layouts of the products that read them: P and dS packed in pairs of rows (right operands of
// dV^T = dO^T P and dK^T = Q^T dS, pm pairs), and dS as rows of ldr (left operand of dQ = dS K).
BF16_TARGET static void bwd_probs_bf16(const float *restrict S, const float *restrict dP, const float *restrict lse,
                                       const float *restrict delta, int64_t rows, int64_t kn, int64_t r0, int causal,
                                       float scale, uint32_t *restrict Pp, uint32_t *restrict dSp, int64_t pm,
                                       uint16_t *restrict dSr, int64_t ldr) {
    const __m512 vc = _mm512_set1_ps(scale * 1.44269504088896341f), vscale = _mm512_set1_ps(scale);
    for (int64_t rp = 0; rp < pm; rp++) {
        __m512 p[2], ds[2];
        for (int64_t j = 0; j < kn; j += 16) {
            for (int h = 0; h < 2; h++) {
                int64_t r = 2 * rp + h;
                int64_t valid = r >= rows ? 0 : causal ? min64(kn, r0 + r + 1) : kn;
                __mmask16 lanes = j >= valid ? 0 : first_lanes(valid - j);
                __m512 offset = _mm512_set1_ps(r < rows ? lse[r] * 1.44269504088896341f : 0.0f);
                __m512 s = _mm512_maskz_loadu_ps(lanes, S + r * kn + j);
                p[h] = _mm512_maskz_mov_ps(lanes, exp2_nonpositive(_mm512_fmsub_ps(s, vc, offset)));
                __m512 g = _mm512_sub_ps(_mm512_maskz_loadu_ps(lanes, dP + r * kn + j), _mm512_set1_ps(r < rows ? delta[r] : 0.0f));
                ds[h] = _mm512_mul_ps(_mm512_mul_ps(vscale, p[h]), g);
                if (r < rows) _mm256_mask_storeu_epi16(dSr + r * ldr + j, first_lanes(kn - j), (__m256i)_mm512_cvtneps_pbh(ds[h]));
            }
            int64_t at = ((j / 64 * pm + rp) * 64 + j % 64);  // pair (rp, column j) in its panel
            _mm512_storeu_si512(Pp + at, bf16_pairs(p[0], p[1]));
            _mm512_storeu_si512(dSp + at, bf16_pairs(ds[0], ds[1]));
        }
    }
    if (kn % 2)  // the zero half of dS's last pair in each row
        for (int64_t r = 0; r < rows; r++) dSr[r * ldr + kn] = 0;
}

// dst [n, rows_p] = src [rows, n] (rows ld apart) transposed, zero from row `rows` on: Q^T and
// dO^T for the key and value gradients' products. Widened to float32 (exact) and back.
BF16_TARGET static void transpose_bf16(const uint16_t *src, int64_t rows, int64_t n, int64_t ld, uint16_t *dst,
                                       int64_t rows_p) {
    for (int64_t d0 = 0; d0 < n; d0 += 16)
        for (int64_t r0 = 0; r0 < rows_p; r0 += 16) {
            __m512 r[16];
            for (int64_t i = 0; i < 16; i++) {
                __m256i bits = r0 + i < rows ? _mm256_maskz_loadu_epi16(first_lanes(n - d0), src + (r0 + i) * ld + d0)
                                             : _mm256_setzero_si256();
                r[i] = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
            }
            dk_transpose16(r);  // r[d]: column d0 + d of rows r0 .. r0 + 15
            for (int64_t d = 0; d < 16 && d0 + d < n; d++)
                _mm256_mask_storeu_epi16(dst + (d0 + d) * rows_p + r0, first_lanes(rows_p - r0),
                                         (__m256i)_mm512_cvtneps_pbh(r[d]));
        }
}

// delta = the row sum of dO * O, with dO as the products read it (bf16), as the emulated path has it.
BF16_TARGET static float dot_bf16(const uint16_t *a, const float *b, int64_t n) {
    __m512 sum = _mm512_setzero_ps();
    for (int64_t i = 0; i < n; i += 16) {
        __mmask16 lanes = first_lanes(n - i);
        __m512 x = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(lanes, a + i)), 16));
        sum = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(lanes, b + i), sum);
    }
    return _mm512_reduce_add_ps(sum);
}

// dst [n, ld] (rows of n values ld apart) = src [cols, n] transposed: an entry's key or value gradients.
BF16_TARGET static void transpose_into(const float *src, int64_t cols, int64_t n, float *dst, int64_t ld) {
    for (int64_t j0 = 0; j0 < n; j0 += 16)
        for (int64_t d0 = 0; d0 < cols; d0 += 16) {
            __m512 r[16];
            for (int64_t i = 0; i < 16; i++)
                r[i] = d0 + i < cols ? _mm512_maskz_loadu_ps(first_lanes(n - j0), src + (d0 + i) * n + j0) : _mm512_setzero_ps();
            dk_transpose16(r);  // r[j]: key j0 + j's values d0 .. d0 + 15
            for (int64_t j = 0; j < 16 && j0 + j < n; j++)
                _mm512_mask_storeu_ps(dst + (j0 + j) * ld + d0, first_lanes(cols - d0), r[j]);
        }
}

static void bwd_body_bf16(void *p, int64_t begin, int64_t end) {
    bwd_ctx *x = p;
    att_ctx *c = x->c;
    const int64_t D = c->D, Dv = c->Dv, Lk = c->Lk, Lq = c->Lq, R = x->R, H = c->H;
    // Per thread: S and dP [R, Lk] float32; dK^T and dV^T [D + Dv, Lk] float32; P and dS packed,
    // dS rows, Q^T and dO^T in bf16.
    int64_t floats = (2 * R + D + Dv) * Lk + R + (2 * x->Lkp * R + R * x->Lk2 + (D + Dv) * R) / 2 + 1;
    float *S = dk_alloc_floats(floats);
    if (!S) { c->err = DK_ERR_ALLOC; return; }
    float *dP = S + R * Lk, *dKT = dP + R * Lk, *dVT = dKT + D * Lk, *delta = dVT + Dv * Lk;
    uint16_t *Pp = (uint16_t *)(delta + R), *dSp = Pp + x->Lkp * R, *dSr = dSp + x->Lkp * R;
    uint16_t *qT = dSr + R * x->Lk2, *doT = qT + D * R;
    for (int64_t t = begin; t < end; t++) {  // t = b * groups + g
        int64_t b = t / c->groups, g = t % c->groups;
        memset(dKT, 0, (size_t)((D + Dv) * Lk) * sizeof(float));
        const uint16_t *q16 = x->q + b * Lq * x->Dp, *do16 = x->dout + b * Lq * x->Dvp;
        const float *out = c->out + entry_start(c, b, Lq, Dv);
        float *dq = c->dq + entry_start(c, b, Lq, D);
        int64_t first = c->nch * g / c->groups * QC, last = min64(Lq, c->nch * (g + 1) / c->groups * QC);
        for (int64_t r0 = first; r0 < last; r0 += R) {
            int64_t rows = min64(R, last - r0), pm = (rows + 1) / 2;
            int64_t kn = c->causal ? min64(Lk, r0 + rows) : Lk, kp = (kn + 1) / 2;
            for (int64_t r = 0; r < rows; r++)
                delta[r] = dot_bf16(do16 + (r0 + r) * x->Dvp, out + (r0 + r) * H * Dv, Dv);
            // S [rows, kn] = Q K^T (scaled in the exponent); dP [rows, kn] = dO V^T
            dk_bf16_gemm(rows, kn, x->Dp / 2, q16 + r0 * x->Dp, x->Dp, x->kt + b * x->Dp * x->Lkp, x->Dp / 2, 1.0f,
                         NULL, S, kn, 0);
            dk_bf16_gemm(rows, kn, x->Dvp / 2, do16 + r0 * x->Dvp, x->Dvp, x->vt + b * x->Dvp * x->Lkp, x->Dvp / 2,
                         1.0f, NULL, dP, kn, 0);
            bwd_probs_bf16(S, dP, c->lse_in + b * Lq + r0, delta, rows, kn, r0, c->causal, c->scale, (uint32_t *)Pp,
                           (uint32_t *)dSp, pm, dSr, 2 * kp);
            // dV^T [Dv, kn] += dO^T P;  dK^T [D, kn] += Q^T dS;  dQ [rows, D] = dS K
            transpose_bf16(do16 + r0 * x->Dvp, rows, Dv, x->Dvp, doT, 2 * pm);
            transpose_bf16(q16 + r0 * x->Dp, rows, D, x->Dp, qT, 2 * pm);
            dk_bf16_gemm(Dv, kn, pm, doT, 2 * pm, Pp, pm, 1.0f, NULL, dVT, Lk, 1);
            dk_bf16_gemm(D, kn, pm, qT, 2 * pm, dSp, pm, 1.0f, NULL, dKT, Lk, 1);
            if (D <= NARROW_WIDTH)
                dk_bf16_gemm_narrow(rows, D, kp, dSr, 2 * kp, x->k + b * k_panel(x), 1.0f, NULL, dq + r0 * H * D, H * D, 0);
            else
                dk_bf16_gemm(rows, D, kp, dSr, 2 * kp, x->k + b * k_panel(x), x->Lk2 / 2, 1.0f, NULL, dq + r0 * H * D,
                             H * D, 0);
        }
        if (c->groups == 1) {
            transpose_into(dKT, D, Lk, c->dk + entry_start(c, b, Lk, D), H * D);
            transpose_into(dVT, Dv, Lk, c->dv + entry_start(c, b, Lk, Dv), H * Dv);
        } else {
            memcpy(c->part + t * (D + Dv) * Lk, dKT, (size_t)((D + Dv) * Lk) * sizeof(float));
        }
    }
    dk_free(S);
}

// With groups: dk [b, j, :] and dv [b, j, :] = sums over groups of the transposed partials' column j.
static void bwd_reduce_body(void *p, int64_t begin, int64_t end) {
    const att_ctx *c = ((bwd_ctx *)p)->c;
    const int64_t D = c->D, Dv = c->Dv, Lk = c->Lk, per = Lk * (D + Dv);
    for (int64_t e = begin; e < end; e++) {  // e = b * Lk + j
        int64_t b = e / Lk, j = e % Lk;
        const float *part = c->part + b * c->groups * per + j;
        float *dk = c->dk + entry_start(c, b, Lk, D) + j * c->H * D;
        float *dv = c->dv + entry_start(c, b, Lk, Dv) + j * c->H * Dv;
        for (int64_t d = 0; d < D + Dv; d++) {
            float s = 0.0f;
            for (int64_t g = 0; g < c->groups; g++) s += part[g * per + d * Lk];
            if (d < D) dk[d] = s;
            else dv[d - D] = s;
        }
    }
}

int dk_attention_backward_native(att_ctx *c) {
    bwd_ctx x = {.c = c, .Dp = (c->D + 1) / 2 * 2, .Dvp = (c->Dv + 1) / 2 * 2, .Lkp = dk_bf16_pairs_width(c->Lk),
                 .Lk2 = (c->Lk + 1) / 2 * 2, .Dw = dk_bf16_pairs_width(c->D), .R = c->Lk <= 1024 ? 64 : 32};
    int64_t nq = c->B * c->Lq * x.Dp, ndo = c->B * c->Lq * x.Dvp, nkt = c->B * x.Dp * x.Lkp,
            nvt = c->B * x.Dvp * x.Lkp, nk = c->B * k_panel(&x);
    uint16_t *buf = (uint16_t *)dk_alloc_floats((nq + ndo + nkt + nvt + nk + 1) / 2);
    if (buf && c->groups > 1) c->part = dk_alloc_floats(c->B * c->groups * c->Lk * (c->D + c->Dv));
    if (!buf || (c->groups > 1 && !c->part)) {
        dk_free(buf);
        return DK_ERR_ALLOC;
    }
    x.q = buf;
    x.dout = x.q + nq;
    x.kt = x.dout + ndo;
    x.vt = x.kt + nkt;
    x.k = x.vt + nvt;
    dk_parallel_for(c->B, 1, &x, bwd_operands_body);
    dk_parallel_for(c->B * c->groups, 1, &x, bwd_body_bf16);
    if (!c->err && c->groups > 1) dk_parallel_for(c->B * c->Lk, 256, &x, bwd_reduce_body);
    dk_free(buf);
    dk_free(c->part);
    c->part = NULL;
    return c->err;
}
