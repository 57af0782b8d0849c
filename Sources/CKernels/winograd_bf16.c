// Winograd F(2x2, 3x3) convolution on bf16 operands with float32 accumulation (AVX-512 BF16):
// the forward of the large 3x3 layers under --precision bf16 (conv.c's DK_CONV_WINOGRAD_BF16).
// oneDNN has no bf16 Winograd, and its bf16 direct convolutions ran the SD 1.5 U-Net's 64x64 and
// 32x32 levels no faster than float32 F(4x4, 3x3) Winograd; this runs them about twice as fast,
// and its wide 16x16 layers 1.6x as fast as bf16 direct.
//
// F(2x2) rather than F(4x4): the transformed tiles and weights are rounded to bf16, and F(4x4)'s
// transforms (coefficients up to 8) made that 7-11x the error of a direct bf16 convolution,
// F(2x2)'s (coefficients 1 and 1/2) 1.7x (relative RMS 0.0039 against 0.0023 with C = K = 256 at
// 16x16, float64 reference). F(2x2) does 2.25x fewer multiplications than direct.
//
// The products are dk_bf16_gemm's, 16 per panel of 64 tiles. A tile: 2x2 outputs from 4x4 inputs;
// tiles are ordered by image, tile row, then tile column, a row's columns padded to a multiple of
// 16 (vectors of 16 side by side: transforms load rows), or for narrow images to a power of two
// (vectors of several tile rows: transforms gather and scatter per lane).
//   V [16 points][C/2 pairs][64 tiles][2]  = Bt d B per input tile, in the GEMM's packed layout
//   M [16 points][kb][64 tiles]            = U [16][kb, C] . V, kb output channels at a time
//   y                                       = At M A + bias, written 2x2 per tile
// U [16 points][K][C rounded up to 2] = G g Gt, the weights as bf16 rows, is kept in a
// frozen-weights scope (within its budget), so a denoising loop transforms them once. Otherwise,
// with one panel of tiles (SD 1.5's 8x8 level), each job transforms the rows it multiplies just
// before: 1280 channels at 8x8, 7.6-7.7 ms a call against 9.9-10.0 with U written out and read back.
#include "winograd_bf16.h"
#include "frozen.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))
#define POINTS 16  // a 4x4 tile's transform
#define TILES 64   // tiles per job: one panel of the GEMM's right operand
#define KB 48      // output channels per pass: their M (196 KB) stays in L2

typedef struct {
    const float *x, *bias;
    float *y;
    const void *w;
    int w_bf16;
    uint16_t *u;
    int64_t C, H, W, K, Cp, th, twp, tiles;
    int64_t chunks;  // of output channels per panel
    int err;
} wino_ctx;

// Tile columns per tile row: a multiple of 16 (a vector of tiles side by side), or for images of
// up to 8 tiles across a power of two, so that a vector holds whole tile rows.
static int64_t tile_columns(int64_t W) {
    int64_t tw = (W + 1) / 2, columns = 1;
    if (tw > 8) return (tw + 15) / 16 * 16;
    while (columns < tw) columns *= 2;
    return columns;
}

int dk_winograd_bf16_pays(int64_t W) {
    int64_t tw = (W + 1) / 2;
    return 4 * tw >= 3 * tile_columns(W);  // at most a quarter of the products on padding tiles
}

// Lanes l of a 16-float window starting at column `start` that lie in [0, W).
static __mmask16 columns(int64_t start, int64_t W) {
    int64_t lo = start < 0 ? -start : 0, hi = W - start < 16 ? W - start : 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

// ---- weights: U = G g Gt, G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1] ----

// Rows k0..k1 of U: point p's row k at out + p * point_stride + (k - k0) * Cp.
BF16_TARGET static void transform_weights(const wino_ctx *c, int64_t k0, int64_t k1, uint16_t *out,
                                          int64_t point_stride) {
    const int64_t C = c->C, Cp = c->Cp;
    const float *w32 = c->w;
    const uint16_t *w16 = c->w;
    const __m512 half = _mm512_set1_ps(0.5f);
    const __m512i nines = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32(9));
    for (int64_t k = k0; k < k1; k++)
        for (int64_t c0 = 0; c0 < Cp; c0 += 16) {
            __m512 g[9];  // g[r * 3 + s], lane l: channel c0 + l
            const int64_t first = (k * C + c0) * 9;
            // 16 channels' 144 values lie in a row: gathered 9 apart from L1, unless the row runs
            // past C (or, for bf16, the 4-byte gather reaches past the weights' last value).
            if (c0 + 16 <= C && (!c->w_bf16 || k + 1 < c->K || c0 + 16 < C)) {
                // Gathers do not start the hardware prefetcher: fetch the weights two blocks ahead.
                const char *ahead = c->w_bf16 ? (const char *)(w16 + first + 2 * 144) : (const char *)(w32 + first + 2 * 144);
                for (int line = 0; line < (c->w_bf16 ? 5 : 9); line++) _mm_prefetch(ahead + 64 * line, _MM_HINT_T0);
                for (int r = 0; r < 9; r++) {
                    __m512i at = _mm512_add_epi32(nines, _mm512_set1_epi32(r));
                    g[r] = c->w_bf16 ? (__m512)_mm512_slli_epi32(_mm512_i32gather_epi32(at, w16 + first, 2), 16)
                                     : _mm512_i32gather_ps(at, w32 + first, 4);
                }
            } else {
                float rows[9][16];
                for (int l = 0; l < 16; l++)
                    for (int r = 0; r < 9; r++) {
                        int64_t i = first + l * 9 + r;
                        uint32_t bits = c0 + l < C && c->w_bf16 ? (uint32_t)w16[i] << 16 : 0;
                        float v;
                        memcpy(&v, &bits, sizeof v);
                        rows[r][l] = c0 + l >= C ? 0.0f : c->w_bf16 ? v : w32[i];
                    }
                for (int r = 0; r < 9; r++) g[r] = _mm512_loadu_ps(rows[r]);
            }
            __m512 t[4][3];  // G g: rows of G applied down each column s
            for (int s = 0; s < 3; s++) {
                __m512 g0 = g[s], g1 = g[3 + s], g2 = g[6 + s];
                __m512 outer = _mm512_add_ps(g0, g2);
                t[0][s] = g0;
                t[1][s] = _mm512_mul_ps(half, _mm512_add_ps(outer, g1));
                t[2][s] = _mm512_mul_ps(half, _mm512_sub_ps(outer, g1));
                t[3][s] = g2;
            }
            __mmask16 store = (__mmask16)(Cp - c0 >= 16 ? 0xffff : (1u << (Cp - c0)) - 1);
            for (int i = 0; i < 4; i++) {
                __m512 outer = _mm512_add_ps(t[i][0], t[i][2]);
                __m512 u[4] = {t[i][0], _mm512_mul_ps(half, _mm512_add_ps(outer, t[i][1])),
                               _mm512_mul_ps(half, _mm512_sub_ps(outer, t[i][1])), t[i][2]};
                for (int j = 0; j < 4; j++)
                    _mm256_mask_storeu_epi16(out + (4 * i + j) * point_stride + (k - k0) * Cp + c0, store,
                                             (__m256i)_mm512_cvtneps_pbh(u[j]));
            }
        }
}

BF16_TARGET static void weights_body(void *p, int64_t k0, int64_t k1) {
    const wino_ctx *c = p;
    transform_weights(c, k0, k1, c->u + k0 * c->Cp, c->K * c->Cp);
}

// ---- input tiles: V = Bt d B, Bt = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1] ----

// e = d B for one row of 4 inputs d[0..3] (16 tiles a vector).
BF16_TARGET static inline void transform_row(const __m512 d[4], __m512 e[4]) {
    e[0] = _mm512_sub_ps(d[0], d[2]);
    e[1] = _mm512_add_ps(d[1], d[2]);
    e[2] = _mm512_sub_ps(d[2], d[1]);
    e[3] = _mm512_sub_ps(d[1], d[3]);
}

// v = Bt e, the columns of the rows' transforms: point 4r + s at v[4r + s].
BF16_TARGET static inline void transform_columns(__m512 e[4][4], __m512 v[POINTS]) {
    for (int s = 0; s < 4; s++) {
        v[s] = _mm512_sub_ps(e[0][s], e[2][s]);
        v[4 + s] = _mm512_add_ps(e[1][s], e[2][s]);
        v[8 + s] = _mm512_sub_ps(e[2][s], e[1][s]);
        v[12 + s] = _mm512_sub_ps(e[1][s], e[3][s]);
    }
}

// The 16 transformed values of 16 tiles side by side (one tile row, columns j0..j0+15) of one
// channel plane.
BF16_TARGET static void input_transform(const float *plane, int64_t H, int64_t W, int64_t i, int64_t j0,
                                        __m512 v[POINTS]) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const int64_t start = 2 * j0 - 1;  // tile j reads columns 2j - 1 .. 2j + 2
    const __mmask16 ma = columns(start, W), mb = columns(start + 16, W);
    const __mmask16 m32 = columns(start + 32, W) & 1, m33 = columns(start + 33, W) & 1;
    __m512 e[4][4];  // rows of d B
    for (int r = 0; r < 4; r++) {
        int64_t row = 2 * i - 1 + r;
        if (row < 0 || row >= H) {
            for (int s = 0; s < 4; s++) e[r][s] = _mm512_setzero_ps();
            continue;
        }
        const float *src = plane + row * W + start;
        __m512 a = _mm512_maskz_loadu_ps(ma, src), b = _mm512_maskz_loadu_ps(mb, src + 16);
        __m512 d[4];  // columns 2j - 1 .. 2j + 2 of the 16 tiles
        d[0] = _mm512_permutex2var_ps(a, even, b);
        d[1] = _mm512_permutex2var_ps(a, odd, b);
        // columns 2j + 1 and 2j + 2: one lane further, the last from the window's next values
        d[2] = (__m512)_mm512_alignr_epi32((__m512i)_mm512_maskz_loadu_ps(m32, src + 32), (__m512i)d[0], 1);
        d[3] = (__m512)_mm512_alignr_epi32((__m512i)_mm512_maskz_loadu_ps(m33, src + 33), (__m512i)d[1], 1);
        transform_row(d, e[r]);
    }
    transform_columns(e, v);
}

// Where 16 tiles of a narrow image (up to 8 tiles across) lie, each lane its own: offsets of each
// tile's top-left input (row 2i - 1, column 2j - 1, within its image's first channel) and top-left
// output, and which of its 4 input rows and columns and 2 output rows and columns are inside.
typedef struct {
    int64_t in[16], out[16];
    __mmask16 in_rows[4], in_cols[4], out_rows[2], out_cols[2];
} narrow_tiles;

static void locate_narrow(const wino_ctx *c, int64_t t, narrow_tiles *nt) {
    memset(nt, 0, sizeof *nt);
    const int64_t tw = (c->W + 1) / 2;
    for (int l = 0; l < 16; l++) {
        int64_t j = (t + l) % c->twp, row = (t + l) / c->twp, i = row % c->th, n = row / c->th;
        if (t + l >= c->tiles || j >= tw) continue;  // no tile: every mask bit stays 0
        nt->in[l] = (n * c->C * c->H + 2 * i - 1) * c->W + 2 * j - 1;
        nt->out[l] = (n * c->K * c->H + 2 * i) * c->W + 2 * j;
        for (int r = 0; r < 4; r++) {
            if (2 * i - 1 + r >= 0 && 2 * i - 1 + r < c->H) nt->in_rows[r] |= (__mmask16)(1u << l);
            if (2 * j - 1 + r >= 0 && 2 * j - 1 + r < c->W) nt->in_cols[r] |= (__mmask16)(1u << l);
        }
        for (int a = 0; a < 2; a++) {
            if (2 * i + a < c->H) nt->out_rows[a] |= (__mmask16)(1u << l);
            if (2 * j + a < c->W) nt->out_cols[a] |= (__mmask16)(1u << l);
        }
    }
}

// input_transform for the 16 tiles of nt in one channel plane: each value gathered.
BF16_TARGET static void input_transform_narrow(const float *plane, int64_t W, const narrow_tiles *nt, __m512 v[POINTS]) {
    const __m512i lo = _mm512_loadu_si512(nt->in), hi = _mm512_loadu_si512(nt->in + 8);
    __m512 e[4][4];
    for (int r = 0; r < 4; r++) {
        __m512 d[4];
        for (int s = 0; s < 4; s++) {
            __mmask16 m = nt->in_rows[r] & nt->in_cols[s];
            const float *base = plane + r * W + s;
            __m256 d0 = _mm512_mask_i64gather_ps(_mm256_setzero_ps(), (__mmask8)m, lo, base, 4);
            __m256 d1 = _mm512_mask_i64gather_ps(_mm256_setzero_ps(), (__mmask8)(m >> 8), hi, base, 4);
            d[s] = _mm512_insertf32x8(_mm512_castps256_ps512(d0), d1, 1);
        }
        transform_row(d, e[r]);
    }
    transform_columns(e, v);
}

// V for the 64 tiles from t0 (those past the last are zeros), channel pairs interleaved.
BF16_TARGET static void input_tiles(const wino_ctx *c, int64_t t0, uint32_t *V) {
    const int64_t CP = c->Cp / 2, plane = c->H * c->W;
    const int narrow = c->twp < 16;
    for (int64_t g = 0; g < TILES; g += 16) {
        int64_t t = t0 + g, j0 = t % c->twp, row = t / c->twp, i = row % c->th, n = row / c->th;
        narrow_tiles nt;
        if (narrow) locate_narrow(c, t, &nt);
        for (int64_t cp = 0; cp < CP; cp++) {
            __m512 lo[POINTS], hi[POINTS];
            int64_t ch = 2 * cp;
            for (int p = 0; p < POINTS; p++) lo[p] = hi[p] = _mm512_setzero_ps();
            if (narrow) {  // lanes without a tile gather nothing
                input_transform_narrow(c->x + ch * plane, c->W, &nt, lo);
                if (ch + 1 < c->C) input_transform_narrow(c->x + (ch + 1) * plane, c->W, &nt, hi);
            } else if (t < c->tiles) {
                input_transform(c->x + (n * c->C + ch) * plane, c->H, c->W, i, j0, lo);
                if (ch + 1 < c->C) input_transform(c->x + (n * c->C + ch + 1) * plane, c->H, c->W, i, j0, hi);
            }
            for (int p = 0; p < POINTS; p++) {  // (channel 2cp, 2cp + 1) in the low and high half of a lane
                __m512i pair = _mm512_or_si512(
                    _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(lo[p])),
                    _mm512_slli_epi32(_mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(hi[p])), 16));
                _mm512_storeu_si512(V + (p * CP + cp) * TILES + g, pair);
            }
        }
    }
}

// ---- outputs: y = At m A + bias, At = [1 1 1 0; 0 1 -1 -1] ----

// The 2x2 outputs y[a][b] of the 16 tiles of nt in plane k, each value scattered.
BF16_TARGET static void store_narrow(float *y, int64_t plane, int64_t W, const narrow_tiles *nt, __m512 out[2][2]) {
    const __m512i lo = _mm512_loadu_si512(nt->out), hi = _mm512_loadu_si512(nt->out + 8);
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            __mmask16 m = nt->out_rows[a] & nt->out_cols[b];
            float *base = y + plane + a * W + b;
            _mm512_mask_i64scatter_ps(base, (__mmask8)m, lo, _mm512_castps512_ps256(out[a][b]), 4);
            _mm512_mask_i64scatter_ps(base, (__mmask8)(m >> 8), hi, _mm512_extractf32x8_ps(out[a][b], 1), 4);
        }
}

BF16_TARGET static void output_tiles(const wino_ctx *c, int64_t t0, int64_t k0, int64_t kb, const float *M) {
    const __m512i first = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i second = _mm512_add_epi32(first, _mm512_set1_epi32(8));
    for (int64_t g = 0; g < TILES; g += 16) {
        int64_t t = t0 + g, j0 = t % c->twp, row = t / c->twp, i = row % c->th, n = row / c->th;
        if (t >= c->tiles) break;
        narrow_tiles nt;
        if (c->twp < 16) locate_narrow(c, t, &nt);
        const __mmask16 left = columns(2 * j0, c->W), right = columns(2 * j0 + 16, c->W);
        for (int64_t kk = 0; kk < kb; kk++) {
            const int64_t k = k0 + kk;
            const float *m = M + kk * TILES + g;  // point p at m[p * KB * TILES]
            __m512 s[4][2];                       // rows of m A
            for (int r = 0; r < 4; r++) {
                __m512 m0 = _mm512_loadu_ps(m + (4 * r) * KB * TILES), m1 = _mm512_loadu_ps(m + (4 * r + 1) * KB * TILES);
                __m512 m2 = _mm512_loadu_ps(m + (4 * r + 2) * KB * TILES), m3 = _mm512_loadu_ps(m + (4 * r + 3) * KB * TILES);
                s[r][0] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
                s[r][1] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
            }
            __m512 bias = _mm512_set1_ps(c->bias ? c->bias[k] : 0.0f), out[2][2];  // out[a][b]: output (2i + a, 2j + b)
            for (int b = 0; b < 2; b++) {
                out[0][b] = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[0][b], s[1][b]), s[2][b]), bias);
                out[1][b] = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[1][b], s[2][b]), s[3][b]), bias);
            }
            if (c->twp < 16) {
                store_narrow(c->y, k * c->H * c->W, c->W, &nt, out);
                continue;
            }
            for (int a = 0; a < 2 && 2 * i + a < c->H; a++) {  // output columns 2j and 2j + 1 interleaved
                float *dst = c->y + ((n * c->K + k) * c->H + 2 * i + a) * c->W + 2 * j0;
                __m512 l = _mm512_permutex2var_ps(out[a][0], first, out[a][1]);
                __m512 h = _mm512_permutex2var_ps(out[a][0], second, out[a][1]);
                if (left == 0xffff) _mm512_storeu_ps(dst, l); else _mm512_mask_storeu_ps(dst, left, l);
                if (right == 0xffff) _mm512_storeu_ps(dst + 16, h); else _mm512_mask_storeu_ps(dst + 16, right, h);
            }
        }
    }
}

BF16_TARGET static void jobs_body(void *p, int64_t j0, int64_t j1) {
    wino_ctx *c = p;
    const int64_t CP = c->Cp / 2;
    uint32_t *V = (uint32_t *)dk_alloc_floats(POINTS * CP * TILES);
    float *M = dk_alloc_floats(POINTS * KB * TILES);
    uint16_t *U = c->u ? NULL : (uint16_t *)dk_alloc_floats(POINTS * KB * CP);  // one pass's weights
    if (!V || !M || (!c->u && !U)) {
        __atomic_store_n(&c->err, DK_ERR_ALLOC, __ATOMIC_RELAXED);
        j1 = j0;
    }
    const int64_t blocks = (c->K + KB - 1) / KB;
    for (int64_t job = j0; job < j1; job++) {
        int64_t t0 = job / c->chunks * TILES, chunk = job % c->chunks;
        int64_t ncols = c->tiles - t0 < TILES ? (c->tiles - t0 + 15) / 16 * 16 : TILES;
        if (job == j0 || chunk == 0) input_tiles(c, t0, V);
        for (int64_t b = chunk * blocks / c->chunks; b < (chunk + 1) * blocks / c->chunks; b++) {
            int64_t k0 = b * KB, kb = c->K - k0 < KB ? c->K - k0 : KB;
            if (U) transform_weights(c, k0, k0 + kb, U, KB * c->Cp);
            for (int p = 0; p < POINTS; p++)
                dk_bf16_gemm(kb, ncols, CP, U ? U + p * KB * c->Cp : c->u + (p * c->K + k0) * c->Cp, c->Cp,
                             (const uint16_t *)(V + p * CP * TILES), CP, 1.0f, NULL, M + p * KB * TILES, TILES, 0);
            output_tiles(c, t0, k0, kb, M);
        }
    }
    dk_free(V);
    dk_free(M);
    dk_free(U);
}

int dk_winograd_bf16_forward(const float *x, const void *w, int w_bf16, const float *bias, float *y, int64_t N,
                             int64_t C, int64_t H, int64_t W, int64_t K) {
    if (!dk_bf16_gemm_available()) return DK_ERR_BACKEND;
    if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || K <= 0) return DK_ERR_SHAPE;
    wino_ctx c = {.x = x, .bias = bias, .y = y, .w = w, .w_bf16 = w_bf16, .C = C, .H = H, .W = W, .K = K,
                  .Cp = (C + 1) / 2 * 2, .th = (H + 1) / 2, .twp = tile_columns(W)};
    c.tiles = N * c.th * c.twp;
    size_t bytes = (size_t)(POINTS * K * c.Cp) * sizeof(uint16_t);
    int fresh = 1;
    static const char owner = 0;  // the frozen copies' key for this layout
    uint16_t *kept = dk_frozen_copy(&owner, w, bytes, &fresh);
    // Jobs: panels of tiles, each split into chunks of output channels where there are too few
    // panels for the threads (the input transform is then repeated per chunk).
    int64_t panels = (c.tiles + TILES - 1) / TILES, blocks = (K + KB - 1) / KB, threads = dk_get_threads();
    // With one panel each weight is read once: unless kept, each job transforms the rows it
    // multiplies just before, instead of writing U out to memory and reading it back.
    c.u = kept ? kept : panels == 1 ? NULL : (uint16_t *)dk_alloc_floats((int64_t)(bytes / sizeof(float)) + 1);
    if (!c.u && panels > 1) return DK_ERR_ALLOC;
    if (fresh && c.u) dk_parallel_for(K, 1, &c, weights_body);
    c.chunks = panels >= 2 * threads ? 1 : (2 * threads + panels - 1) / panels;
    if (c.chunks > blocks) c.chunks = blocks;
    dk_parallel_for(panels * c.chunks, 1, &c, jobs_body);
    if (!kept) dk_free(c.u);
    return c.err;
}
