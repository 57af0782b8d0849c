// A single-threaded GEMM with bfloat16 operands and float32 accumulation on AVX-512 BF16
// (vdpbf16ps), for products that run inside parallel regions where oneDNN's primitives would
// serialise: attention's products (two forward, five backward), one block of queries per thread.
// The right operand is packed once in pairs along the reduction, in panels of 64 columns
// ([N/64][K/2][64][2]: vdpbf16ps reads pairs, and a panel's slice for one register tile is
// contiguous, where rows of all N columns put the slice's rows N * 4 bytes apart, into the same
// few L1 sets); the left is bf16 rows whose pairs are broadcast. Compiled for AVX-512 BF16 only
// in this file and called only where the CPU has it (dk_bf16_gemm_available).
#include "CKernels.h"
#include "dk_math.h"
#include "transpose16.h"
#include <immintrin.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define MR 6           // rows of a register tile
#define NB 4           // 16-column vectors of a register tile: 24 accumulators
#define MR_NARROW 24   // rows of a tile one vector wide (12 for two): 24 accumulators too, where
                       // 6 rows would wait on vdpbf16ps's latency (attention's 8- and 16-wide heads)
#define PANEL (16 * NB) // columns of a packed panel: one register tile's width
#define KP_BLOCK 128   // pairs of the reduction per pass: a panel's slice is 32 KB (L1)

int dk_bf16_gemm_available(void) {
    return __builtin_cpu_supports("avx512bf16") && dk_bf16_native_supported();
}

int64_t dk_bf16_pairs_width(int64_t n) { return (n + PANEL - 1) / PANEL * PANEL; }

static __mmask16 first16(int64_t n) { return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1); }

BF16_TARGET void dk_bf16_pack_rows(const float *src, int64_t rows, int64_t cols, int64_t ld, uint16_t *dst,
                                   int64_t dst_ld) {
    for (int64_t r = 0; r < rows; r++) {
        const float *s = src + r * ld;
        uint16_t *d = dst + r * dst_ld;
        int64_t j = 0;
        for (; j + 16 <= cols; j += 16)
            _mm256_storeu_si256((__m256i *)(d + j), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(s + j)));
        // The rest of the row and its zero padding, 16 at a time (attention's 8-wide heads are all rest)
        for (; j < dst_ld; j += 16) {
            int64_t values = cols - j > 0 ? cols - j : 0, width = dst_ld - j < 16 ? dst_ld - j : 16;
            __m256i v = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(first16(values), s + j));
            if (width == 8) _mm_storeu_si128((__m128i *)(d + j), _mm256_castsi256_si128(v));  // faster than masked on Zen 4
            else _mm256_mask_storeu_epi16(d + j, first16(width), v);
        }
    }
}

// Pair p of column n: two consecutive bf16 values at (n / PANEL, p, n % PANEL) of the panels.
static int64_t pair_index(int64_t p, int64_t n, int64_t kp) { return (n / PANEL * kp + p) * PANEL + n % PANEL; }

BF16_TARGET void dk_bf16_pack_pairs(const float *src, int64_t K, int64_t N, int64_t ld, int trans, uint16_t *out) {
    // Columns up to N rounded up to a vector: the GEMM's tiles read no further into a panel.
    int64_t np = (N + 15) / 16 * 16, kp = (K + 1) / 2;
    uint32_t *pairs = (uint32_t *)out;
    if (trans) {  // src [N, K]: a row of src is column n's pairs (attention's heads are strided)
        // 16 columns by 16 pairs at a time: each column's pairs in a register, transposed (as
        // 32-bit lanes) into each pair's 16 columns, contiguous in their panel.
        for (int64_t n0 = 0; n0 < np; n0 += 16)
            for (int64_t p0 = 0; p0 < kp; p0 += 16) {
                int64_t left = K - 2 * p0;  // values of each row from pair p0 on
                __mmask16 lo = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
                __mmask16 hi = left <= 16 ? 0 : left >= 32 ? (__mmask16)0xffff : (__mmask16)((1u << (left - 16)) - 1);
                __m512 r[16];
                for (int64_t i = 0; i < 16; i++) {
                    const float *s = src + (n0 + i) * ld + 2 * p0;
                    r[i] = n0 + i >= N ? _mm512_setzero_ps()
                                       : (__m512)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, s + 16), _mm512_maskz_loadu_ps(lo, s));
                }
                dk_transpose16(r);  // r[p]: pair p0 + p of columns n0 .. n0 + 15
                for (int64_t p = 0; p < 16 && p0 + p < kp; p++) _mm512_storeu_ps((float *)(pairs + pair_index(p0 + p, n0, kp)), r[p]);
            }
        return;
    }
    // src [K, N]: rows 2p and 2p + 1 interleaved, 16 columns at a time
    for (int64_t p = 0; p < kp; p++) {
        const float *r0 = src + 2 * p * ld, *r1 = 2 * p + 1 < K ? r0 + ld : NULL;
        for (int64_t n = 0; n < np; n += 16) {
            __mmask16 m = n >= N ? 0 : N - n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (N - n)) - 1);
            __m512 a = _mm512_maskz_loadu_ps(m, r0 + n), b = r1 ? _mm512_maskz_loadu_ps(m, r1 + n) : _mm512_setzero_ps();
            // bf16 of a in the low and b in the high half of each 32-bit lane: (a, b) pairs
            __m512i ab = _mm512_or_si512(_mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(a)),
                                         _mm512_slli_epi32(_mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(b)), 16));
            _mm512_storeu_si512(pairs + pair_index(p, n, kp), ab);
        }
    }
}

// acc [mr][nb] over kp pairs of a panel slice b; then C = (first ? 0 : C) + scale * acc (no
// multiply when the scale is 1). The loops over the tile unroll fully, so that the accumulators
// are registers (left to itself clang kept a 24-row tile's on the stack).
BF16_TARGET DK_INLINE void tile(const int mr, const int nb, int64_t kp, const uint32_t *a, int64_t lda,
                                const uint16_t *b, float *c, int64_t ldc, int64_t ncols, int first, float alpha,
                                const float *row_scale) {
    __m512 acc[MR_NARROW][NB];
#pragma clang loop unroll(full)
    for (int i = 0; i < mr; i++)
#pragma clang loop unroll(full)
        for (int j = 0; j < nb; j++) acc[i][j] = _mm512_setzero_ps();
    for (int64_t p = 0; p < kp; p++) {
        __m512bh bv[NB];
#pragma clang loop unroll(full)
        for (int j = 0; j < nb; j++) bv[j] = (__m512bh)_mm512_loadu_si512(b + (p * PANEL + 16 * j) * 2);
#pragma clang loop unroll(full)
        for (int i = 0; i < mr; i++) {
            __m512bh av = (__m512bh)_mm512_set1_epi32((int)a[i * lda + p]);
#pragma clang loop unroll(full)
            for (int j = 0; j < nb; j++) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], av, bv[j]);
        }
    }
    const int scaled = row_scale || alpha != 1.0f;
#pragma clang loop unroll(full)
    for (int j = 0; j < nb; j++) {
        int64_t left = ncols - 16 * j;
        __mmask16 mask = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
#pragma clang loop unroll(full)
        for (int i = 0; i < mr; i++) {
            float *cp = c + i * ldc + 16 * j;
            __m512 v = acc[i][j];
            if (scaled) v = _mm512_mul_ps(v, _mm512_set1_ps(row_scale ? alpha * row_scale[i] : alpha));
            if (left >= 16) {  // Zen 4 stores a full vector several times faster than a masked one
                if (!first) v = _mm512_add_ps(v, _mm512_loadu_ps(cp));
                _mm512_storeu_ps(cp, v);
            } else {
                if (!first) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, cp));
                _mm512_mask_storeu_ps(cp, mask, v);
            }
        }
    }
}

#define TILE_CASE(m, n)                                                                          \
    case (m) * 8 + (n):                                                                          \
        tile(m, n, kp, a, lda, b, c, ldc, ncols, first, alpha, row_scale);                        \
        break;
#define TILE_ROW(m) TILE_CASE(m, 1) TILE_CASE(m, 2) TILE_CASE(m, 3) TILE_CASE(m, 4)

BF16_TARGET static void dispatch(int mr, int nb, int64_t kp, const uint32_t *a, int64_t lda, const uint16_t *b,
                                 float *c, int64_t ldc, int64_t ncols, int first, float alpha,
                                 const float *row_scale) {
    switch (mr * 8 + nb) {
        TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4) TILE_ROW(5) TILE_ROW(6)
        TILE_CASE(MR_NARROW, 1) TILE_CASE(MR_NARROW / 2, 2)
    }
}

// ---- right operands at most 8 columns wide (attention's 8-wide heads) ----
// A panel of 64 columns would leave half of each 16-lane vector idle. Here lane 2n + h of group g
// holds pair 2g + h of column n, so that one 64-bit broadcast of A's pairs 2g and 2g + 1 feeds all
// 16 lanes; each column's two lanes are summed at the end.

int64_t dk_bf16_narrow_groups(int64_t K) { return ((K + 1) / 2 + 1) / 2; }

BF16_TARGET void dk_bf16_pack_pairs_narrow(const float *src, int64_t K, int64_t N, int64_t ld, uint16_t *out) {
    // Lane 2n + h of the low (high) halves: row 2h (2h + 1) of the group's four, column n.
    const __m512i spread = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __mmask8 cols = (__mmask8)((1u << N) - 1);
    for (int64_t g = 0, groups = dk_bf16_narrow_groups(K); g < groups; g++) {
        __m256 r[4];
        for (int i = 0; i < 4; i++)
            r[i] = 4 * g + i < K ? _mm256_maskz_loadu_ps(cols, src + (4 * g + i) * ld) : _mm256_setzero_ps();
        __m512 lo = _mm512_permutex2var_ps(_mm512_castps256_ps512(r[0]), spread, _mm512_castps256_ps512(r[2]));
        __m512 hi = _mm512_permutex2var_ps(_mm512_castps256_ps512(r[1]), spread, _mm512_castps256_ps512(r[3]));
        __m512i pairs = _mm512_or_si512(_mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(lo)),
                                        _mm512_slli_epi32(_mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(hi)), 16));
        _mm512_storeu_si512(out + 32 * g, pairs);
    }
}

BF16_TARGET DK_INLINE void tile_narrow(const int mr, int64_t kp, const uint32_t *a, int64_t lda, const uint32_t *b,
                                       float *c, int64_t ldc, int64_t ncols, int first, float alpha,
                                       const float *row_scale) {
    __m512 acc[MR_NARROW];
#pragma clang loop unroll(full)
    for (int i = 0; i < mr; i++) acc[i] = _mm512_setzero_ps();
    int64_t g = 0;
    for (; 2 * g + 2 <= kp; g++) {
        __m512bh bv = (__m512bh)_mm512_loadu_si512(b + 16 * g);
#pragma clang loop unroll(full)
        for (int i = 0; i < mr; i++) {
            uint64_t two;
            __builtin_memcpy(&two, a + i * lda + 2 * g, sizeof two);
            acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)_mm512_set1_epi64((long long)two), bv);
        }
    }
    if (kp % 2) {  // the last pair alone: even lanes only (the odd ones hold a pair past KP)
        __m512bh bv = (__m512bh)_mm512_loadu_si512(b + 16 * g);
#pragma clang loop unroll(full)
        for (int i = 0; i < mr; i++)
            acc[i] = _mm512_dpbf16_ps(acc[i], (__m512bh)_mm512_maskz_set1_epi32(0x5555, (int)a[i * lda + 2 * g]), bv);
    }
    const __m512i evens = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 14, 12, 10, 8, 6, 4, 2, 0);
    const __mmask16 mask = (__mmask16)((1u << ncols) - 1);
#pragma clang loop unroll(full)
    for (int i = 0; i < mr; i++) {
        __m512 v = _mm512_add_ps(acc[i], _mm512_permute_ps(acc[i], 0xb1));  // lane 2n: column n's sum
        v = _mm512_permutexvar_ps(evens, v);
        if (row_scale || alpha != 1.0f) v = _mm512_mul_ps(v, _mm512_set1_ps(row_scale ? alpha * row_scale[i] : alpha));
        if (ncols == 8) {  // Zen 4 stores a full vector several times faster than a masked one
            __m256 w = _mm512_castps512_ps256(v);
            if (!first) w = _mm256_add_ps(w, _mm256_loadu_ps(c + i * ldc));
            _mm256_storeu_ps(c + i * ldc, w);
        } else {
            if (!first) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, c + i * ldc));
            _mm512_mask_storeu_ps(c + i * ldc, mask, v);
        }
    }
}

#define NARROW_CASE(m)                                                                          \
    case m:                                                                                     \
        tile_narrow(m, kp, a, lda, b, c, ldc, ncols, first, alpha, row_scale);                  \
        break;

BF16_TARGET static void dispatch_narrow(int mr, int64_t kp, const uint32_t *a, int64_t lda, const uint32_t *b,
                                        float *c, int64_t ldc, int64_t ncols, int first, float alpha,
                                        const float *row_scale) {
    switch (mr) {
        NARROW_CASE(MR_NARROW) NARROW_CASE(12) NARROW_CASE(6) NARROW_CASE(5) NARROW_CASE(4) NARROW_CASE(3)
        NARROW_CASE(2) NARROW_CASE(1)
    }
}

BF16_TARGET void dk_bf16_gemm_narrow(int64_t M, int64_t N, int64_t KP, const uint16_t *A, int64_t lda,
                                     const uint16_t *Bn, float alpha, const float *row_scale, float *C, int64_t ldc,
                                     int accumulate) {
    for (int64_t m0 = 0, mr; m0 < M; m0 += mr) {
        int64_t left = M - m0;
        mr = left >= MR_NARROW ? MR_NARROW : left >= 12 ? 12 : left >= 6 ? 6 : left;
        dispatch_narrow((int)mr, KP, (const uint32_t *)A + m0 * (lda / 2), lda / 2, (const uint32_t *)Bn, C + m0 * ldc,
                        ldc, N, !accumulate, alpha, row_scale ? row_scale + m0 : NULL);
    }
}

BF16_TARGET void dk_bf16_gemm(int64_t M, int64_t N, int64_t KP, const uint16_t *A, int64_t lda, const uint16_t *Bp,
                              int64_t bkp, float alpha, const float *row_scale, float *C, int64_t ldc,
                              int accumulate) {
    const uint32_t *a32 = (const uint32_t *)A;  // pairs of A's rows; lda is even
    for (int64_t k0 = 0; k0 < KP; k0 += KP_BLOCK) {
        int64_t kp = KP - k0 < KP_BLOCK ? KP - k0 : KP_BLOCK;
        int first = k0 == 0 && !accumulate;
        for (int64_t n0 = 0; n0 < N; n0 += PANEL) {
            int64_t ncols = N - n0 < PANEL ? N - n0 : PANEL;
            int nb = (int)((ncols + 15) / 16), tall = nb == 1 ? MR_NARROW : nb == 2 ? MR_NARROW / 2 : MR;
            const uint16_t *slice = Bp + (n0 * bkp + k0 * PANEL) * 2;  // panel n0 / PANEL, from pair k0
            for (int64_t m0 = 0, mr; m0 < M; m0 += mr) {
                mr = M - m0 >= tall ? tall : M - m0 < MR ? M - m0 : MR;
                dispatch((int)mr, nb, kp, a32 + m0 * (lda / 2) + k0, lda / 2, slice, C + m0 * ldc + n0, ldc, ncols, first,
                         alpha, row_scale ? row_scale + m0 : NULL);
            }
        }
    }
    if (KP == 0 && !accumulate)
        for (int64_t r = 0; r < M; r++)
            for (int64_t n = 0; n < N; n++) C[r * ldc + n] = 0.0f;
}
