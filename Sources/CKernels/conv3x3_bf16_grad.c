// The weight gradient of 3x3 convolutions (stride 1, padding 1) on bf16 operands with float32
// accumulation (AVX-512 BF16), for mixed-precision training (conv.c's DK_CONV_GRAD_3X3_BF16).
//
// For each of the nine taps (r, s): dW[:, :, r, s] [K, C] = dy [K, T] . x_rs [T, C], where T runs
// over every pixel of every image and x_rs is x shifted by the tap. The left operand is dy as bf16
// rows; the right is packed straight from a zero-padded channels-last bf16 copy of x, where a
// shifted pixel's channels are contiguous and never out of bounds, so no im2col is written. A job
// is one tap, one panel of 64 input channels and a part of the pixels (several parts, summed at
// the end, where the panels are too few to share between the threads).
#include "conv3x3_bf16.h"
#include "dk_math.h"
#include "transpose16.h"
#include <immintrin.h>
#include <string.h>

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define PANEL 64   // columns of a packed panel of dk_bf16_gemm's right operand
#define CHUNK 1024 // pixels packed at a time: a panel's 256 KB stays in L2 through its product

typedef struct {
    const float *x, *dy;
    float *dw, *db;
    uint16_t *xp;      // [N][H + 2][W + 2][Cs] bf16, zero border and padding channels
    uint16_t *a;       // [K][Tp] bf16: dy's rows over every pixel, zero past T
    float *g;          // [parts][K][9][C]: the gradient, tap-major, summed over part of the pixels
    int64_t N, C, H, W, K, Cs, T, Tp, panels, parts, part_pixels;
    int err;
} grad_ctx;

// xp's image n: its interior is x [C, H, W] transposed to channels-last, the rest zeros. Blocks
// of 16 channels by 16 pixels of the plane (whichever rows they lie in) are transposed in
// registers; channels past C load as zeros, which fills the padding channels.
BF16_TARGET static void padded_body(void *p, int64_t n0, int64_t n1) {
    grad_ctx *c = p;
    const int64_t H = c->H, W = c->W, HW = H * W, Cs = c->Cs, row = (W + 2) * Cs;
    for (int64_t n = n0; n < n1; n++) {
        uint16_t *img = c->xp + n * (H + 2) * row;
        const float *src = c->x + n * c->C * HW;
        memset(img, 0, (size_t)row * sizeof(uint16_t));
        memset(img + (H + 1) * row, 0, (size_t)row * sizeof(uint16_t));
        for (int64_t y = 1; y <= H; y++) {
            memset(img + y * row, 0, (size_t)Cs * sizeof(uint16_t));
            memset(img + y * row + (W + 1) * Cs, 0, (size_t)Cs * sizeof(uint16_t));
        }
        for (int64_t t0 = 0; t0 < HW; t0 += 16) {
            int64_t pixels = HW - t0 < 16 ? HW - t0 : 16;
            __mmask16 lanes = (__mmask16)((1u << pixels) - 1);
            for (int64_t c0 = 0; c0 < Cs; c0 += 16) {
                __m512 r[16];
                for (int i = 0; i < 16; i++)
                    r[i] = c0 + i < c->C ? _mm512_maskz_loadu_ps(lanes, src + (c0 + i) * HW + t0) : _mm512_setzero_ps();
                dk_transpose16(r);
                for (int64_t i = 0, y = t0 / W, x = t0 % W; i < pixels; i++) {
                    _mm256_storeu_si256((__m256i *)(img + (y + 1) * row + (x + 1) * Cs + c0),
                                        (__m256i)_mm512_cvtneps_pbh(r[i]));
                    if (++x == W) { x = 0; y++; }
                }
            }
        }
    }
}

// a's rows k: dy [N, K, H*W]'s row k of every image, back to back; and the bias gradient,
// summed in float32 from dy itself.
BF16_TARGET static void rows_body(void *p, int64_t k0, int64_t k1) {
    grad_ctx *c = p;
    const int64_t HW = c->H * c->W;
    for (int64_t k = k0; k < k1; k++) {
        uint16_t *row = c->a + k * c->Tp;
        __m512 sum = _mm512_setzero_ps();
        for (int64_t n = 0; n < c->N; n++) {
            const float *s = c->dy + (n * c->K + k) * HW;
            uint16_t *d = row + n * HW;
            for (int64_t i = 0; i < HW; i += 16) {
                __mmask16 lanes = HW - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (HW - i)) - 1);
                __m512 v = _mm512_maskz_loadu_ps(lanes, s + i);
                sum = _mm512_add_ps(sum, v);
                _mm256_mask_storeu_epi16(d + i, lanes, (__m256i)_mm512_cvtneps_pbh(v));
            }
        }
        for (int64_t t = c->T; t < c->Tp; t++) row[t] = 0;
        if (c->db) c->db[k] = _mm512_reduce_add_ps(sum);
    }
}

// Pairs of pixels t, t + 1 (t from t0, `pairs` of them) of xp shifted by `offset` values, 64
// channels from c0: out [pairs][64][2], as dk_bf16_gemm reads one panel.
BF16_TARGET static void pack_panel(const grad_ctx *c, int64_t t0, int64_t pairs, int64_t offset, int64_t c0,
                                   uint16_t *out) {
    const int64_t W = c->W, H = c->H, Cs = c->Cs, vectors = (Cs - c0 < PANEL ? Cs - c0 : PANEL) / 16;
    // pixel t's place in xp: (n, y + 1, x + 1)
    int64_t x = t0 % W, y = t0 / W % H, n = t0 / (W * H);
    const uint16_t *base = c->xp + offset + c0;
    const __m256i zero = _mm256_setzero_si256();
    for (int64_t p = 0; p < pairs; p++) {
        const uint16_t *src[2];
        for (int i = 0; i < 2; i++) {
            src[i] = n < c->N ? base + ((n * (H + 2) + y + 1) * (W + 2) + x + 1) * Cs : NULL;
            if (++x == W) {
                x = 0;
                if (++y == H) { y = 0; n++; }
            }
        }
        uint32_t *dst = (uint32_t *)out + p * PANEL;
        for (int64_t v = 0; v < vectors; v++) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(src[0] + 16 * v));
            __m256i b = src[1] ? _mm256_loadu_si256((const __m256i *)(src[1] + 16 * v)) : zero;
            __m512i ab = _mm512_or_si512(_mm512_cvtepu16_epi32(a), _mm512_slli_epi32(_mm512_cvtepu16_epi32(b), 16));
            _mm512_storeu_si512(dst + 16 * v, ab);
        }
    }
}

static void jobs_body(void *p, int64_t j0, int64_t j1) {
    grad_ctx *c = p;
    uint16_t *packed = (uint16_t *)dk_alloc_floats(CHUNK / 2 * PANEL);  // [CHUNK / 2][64][2]
    if (!packed) {
        __atomic_store_n(&c->err, DK_ERR_ALLOC, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t job = j0; job < j1; job++) {
        int64_t part = job % c->parts, panel = job / c->parts % c->panels, tap = job / c->parts / c->panels;
        int64_t c0 = panel * PANEL, cols = c->C - c0 < PANEL ? c->C - c0 : PANEL;
        int64_t offset = ((tap / 3 - 1) * (c->W + 2) + tap % 3 - 1) * c->Cs;
        int64_t begin = part * c->part_pixels, end = begin + c->part_pixels < c->T ? begin + c->part_pixels : c->T;
        float *g = c->g + part * c->K * 9 * c->C + tap * c->C + c0;
        for (int64_t t0 = begin; t0 < end; t0 += CHUNK) {
            int64_t pairs = ((end - t0 < CHUNK ? end - t0 : CHUNK) + 1) / 2;
            pack_panel(c, t0, pairs, offset, c0, packed);
            dk_bf16_gemm(c->K, cols, pairs, c->a + t0, c->Tp, packed, pairs, 1.0f, NULL, g, 9 * c->C, t0 > begin);
        }
    }
    dk_free(packed);
}

// dw [K, C, 3, 3]: g's parts [K, 9, C] summed, written in order. Sixteen channels at a time: the
// nine taps' vectors, transposed in registers, are each channel's nine values; each store of 16
// values writes them and the next channel's first seven, which the next store overwrites (a row's
// last channel stores its nine alone: the next row may be another thread's).
BF16_TARGET static void scatter_body(void *p, int64_t k0, int64_t k1) {
    const grad_ctx *c = p;
    const int64_t C = c->C, stride = c->K * 9 * C;
    for (int64_t k = k0; k < k1; k++) {
        const float *g = c->g + k * 9 * C;
        float *dw = c->dw + k * C * 9;
        for (int64_t c0 = 0; c0 < C; c0 += 16) {
            int64_t channels = C - c0 < 16 ? C - c0 : 16;
            __mmask16 lanes = (__mmask16)((1u << channels) - 1);
            __m512 r[16];
            for (int tap = 0; tap < 16; tap++) {
                r[tap] = _mm512_setzero_ps();
                if (tap < 9)
                    for (int64_t part = 0; part < c->parts; part++)
                        r[tap] = _mm512_add_ps(r[tap], _mm512_maskz_loadu_ps(lanes, g + part * stride + tap * C + c0));
            }
            dk_transpose16(r);  // r[i]: channel c0 + i's nine taps, then zeros
            float *out = dw + c0 * 9;
            int64_t last = c0 + 16 >= C ? channels - 1 : channels;
            for (int64_t i = 0; i < last; i++) _mm512_storeu_ps(out + 9 * i, r[i]);
            for (int64_t i = last; i < channels; i++) _mm512_mask_storeu_ps(out + 9 * i, 0x1ff, r[i]);
        }
    }
}

int dk_conv3x3_bf16_backward_weights(const float *x, const float *dy, float *dw, float *db, int64_t N, int64_t C,
                                     int64_t H, int64_t W, int64_t K) {
    if (!dk_bf16_gemm_available()) return DK_ERR_BACKEND;
    if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || K <= 0) return DK_ERR_SHAPE;
    grad_ctx c = {.x = x, .dy = dy, .dw = dw, .db = db, .N = N, .C = C, .H = H, .W = W, .K = K, .Cs = (C + 15) / 16 * 16,
                  .T = N * H * W, .panels = (C + PANEL - 1) / PANEL};
    c.Tp = (c.T + 1) / 2 * 2;
    // Enough jobs that two threads' shares differ by little: with few panels, the pixels are split
    // into parts (of whole chunks) too, each summed apart.
    int64_t chunks = (c.T + CHUNK - 1) / CHUNK;
    c.parts = 9 * c.panels >= 32 ? 1 : (32 + 9 * c.panels - 1) / (9 * c.panels);
    if (c.parts > chunks) c.parts = chunks;
    c.part_pixels = (chunks + c.parts - 1) / c.parts * CHUNK;
    c.parts = (c.T + c.part_pixels - 1) / c.part_pixels;
    int64_t padded = N * (H + 2) * (W + 2) * c.Cs, rows = K * c.Tp, grads = c.parts * K * 9 * C;
    c.xp = (uint16_t *)dk_alloc_floats((padded + 1) / 2);
    c.a = (uint16_t *)dk_alloc_floats(rows / 2);
    c.g = dk_alloc_floats(grads);
    int rc = c.xp && c.a && c.g ? 0 : DK_ERR_ALLOC;
    if (!rc) {
        // Images and rows in regions of their own: an image costs C / N rows, so one region's
        // halves would share them unevenly.
        dk_parallel_for(N, 1, &c, padded_body);
        dk_parallel_for(K, 1, &c, rows_body);
        dk_parallel_for(9 * c.panels * c.parts, 1, &c, jobs_body);
        rc = c.err;
    }
    if (!rc) dk_parallel_for(K, 8, &c, scatter_body);
    dk_free(c.xp);
    dk_free(c.a);
    dk_free(c.g);
    return rc;
}
