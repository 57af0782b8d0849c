// 1x1 convolutions (stride 1, no padding) on bf16 operands with float32 accumulation (AVX-512
// BF16): per image y [K, HW] = W [K, C] . x [C, HW] on dk_bf16_gemm, for the forward and the
// input gradient (dx = Wt . dy, the same product on transposed weights) under --precision bf16
// (conv.c's DK_CONV_GEMM_1X1_BF16). oneDNN's bf16 1x1 kernels on plain layouts ran SD 1.5's
// projections at 200-300 GFLOP/s.
//
// A job is one panel of 64 pixels of one image: it packs x's panel in pairs of channels (the
// GEMM's right operand), multiplies all K rows of the weights into y's columns, and adds the bias
// while they are in cache. Weights stored as bf16 with an even C are read in place; others are
// converted to bf16 rows (kept in a frozen-weights scope).
#include "conv1x1_bf16.h"
#include "dk_math.h"
#include "frozen.h"
#include <stdlib.h>
#include <string.h>

#define PIXELS 64  // a job's columns: one panel of the GEMM's right operand

typedef struct {
    const float *x, *bias;
    float *y;
    const uint16_t *w;  // [K, Cp] bf16 rows
    int64_t C, Cp, HW, K, panels;  // panels per image
    int err;
} conv1x1_ctx;

static void jobs_body(void *p, int64_t j0, int64_t j1) {
    conv1x1_ctx *c = p;
    const int64_t CP = c->Cp / 2;
    uint16_t *packed = (uint16_t *)dk_alloc_floats(CP * PIXELS);  // [CP][64][2] bf16
    if (!packed) {
        __atomic_store_n(&c->err, DK_ERR_ALLOC, __ATOMIC_RELAXED);
        return;
    }
    for (int64_t job = j0; job < j1; job++) {
        int64_t n = job / c->panels, p0 = job % c->panels * PIXELS;
        int64_t cols = c->HW - p0 < PIXELS ? c->HW - p0 : PIXELS;
        float *y = c->y + n * c->K * c->HW + p0;
        dk_bf16_pack_pairs(c->x + n * c->C * c->HW + p0, c->C, cols, c->HW, 0, packed);
        dk_bf16_gemm(c->K, cols, CP, c->w, c->Cp, packed, CP, 1.0f, NULL, y, c->HW, 0);
        if (c->bias)
            for (int64_t k = 0; k < c->K; k++)
                for (int64_t i = 0; i < cols; i++) y[k * c->HW + i] += c->bias[k];
    }
    dk_free(packed);
}

typedef struct {
    const void *w;  // [K, C]
    int w_bf16;
    int64_t K, C, Cp;
    uint16_t *out;  // [K, Cp] rows
} weight_rows;

// Weights as bf16 rows of an even width, zero in the padding channel.
static void weight_rows_body(void *p, int64_t k0, int64_t k1) {
    const weight_rows *a = p;
    for (int64_t k = k0; k < k1; k++) {
        uint16_t *row = a->out + k * a->Cp;
        if (a->w_bf16) memcpy(row, (const uint16_t *)a->w + k * a->C, (size_t)a->C * sizeof(uint16_t));
        else dk_bf16_pack_rows((const float *)a->w + k * a->C, 1, a->C, a->C, row, a->C);
        if (a->Cp > a->C) row[a->C] = 0;
    }
}

// Transposed: rows c of out [C, Kp] hold column c of w [K, C].
static void transposed_rows_body(void *p, int64_t c0, int64_t c1) {
    const weight_rows *a = p;
    const int64_t Kp = (a->K + 1) / 2 * 2;
    for (int64_t c = c0; c < c1; c++) {
        uint16_t *row = a->out + c * Kp;
        for (int64_t k = 0; k < a->K; k++) {
            int64_t i = k * a->C + c;
            row[k] = a->w_bf16 ? ((const uint16_t *)a->w)[i] : dk_bf16_bits(((const float *)a->w)[i]);
        }
        if (Kp > a->K) row[a->K] = 0;
    }
}

int dk_conv1x1_bf16_backward_data(const float *dy, const void *w, int w_bf16, float *dx, int64_t N, int64_t C,
                                  int64_t HW, int64_t K) {
    if (!dk_bf16_gemm_available()) return DK_ERR_BACKEND;
    if (N <= 0 || C <= 0 || HW <= 0 || K <= 0) return DK_ERR_SHAPE;
    // dx [C, HW] = Wt [C, K] . dy [K, HW]: the forward's product with K and C swapped
    conv1x1_ctx c = {.x = dy, .y = dx, .C = K, .Cp = (K + 1) / 2 * 2, .HW = HW, .K = C,
                     .panels = (HW + PIXELS - 1) / PIXELS};
    uint16_t *rows = (uint16_t *)dk_alloc_floats((C * c.Cp + 1) / 2);
    if (!rows) return DK_ERR_ALLOC;
    weight_rows a = {w, w_bf16, K, C, 0, rows};
    dk_parallel_for(C, 16, &a, transposed_rows_body);
    c.w = rows;
    dk_parallel_for(N * c.panels, 1, &c, jobs_body);
    dk_free(rows);
    return c.err;
}

int dk_conv1x1_bf16_forward(const float *x, const void *w, int w_bf16, const float *bias, float *y, int64_t N,
                            int64_t C, int64_t HW, int64_t K) {
    if (!dk_bf16_gemm_available()) return DK_ERR_BACKEND;
    if (N <= 0 || C <= 0 || HW <= 0 || K <= 0) return DK_ERR_SHAPE;
    conv1x1_ctx c = {.x = x, .bias = bias, .y = y, .C = C, .Cp = (C + 1) / 2 * 2, .HW = HW, .K = K,
                     .panels = (HW + PIXELS - 1) / PIXELS};
    uint16_t *rows = NULL, *kept = NULL;
    if (w_bf16 && C == c.Cp) {
        c.w = w;
    } else {
        size_t bytes = (size_t)(K * c.Cp) * sizeof(uint16_t);
        int fresh = 1;
        static const char owner = 0;  // the frozen copies' key for this layout
        kept = dk_frozen_copy(&owner, w, bytes, &fresh);
        c.w = kept ? kept : (rows = (uint16_t *)dk_alloc_floats((int64_t)(bytes / sizeof(float)) + 1));
        if (!c.w) return DK_ERR_ALLOC;
        weight_rows a = {w, w_bf16, K, C, c.Cp, (uint16_t *)c.w};
        if (fresh) dk_parallel_for(K, 64, &a, weight_rows_body);
    }
    dk_parallel_for(N * c.panels, 1, &c, jobs_body);
    dk_free(rows);
    return c.err;
}
