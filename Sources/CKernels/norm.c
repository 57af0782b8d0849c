// Group norm (optionally fused with SiLU) and layer norm, forward and backward.
#include "CKernels.h"
#include "dk_math.h"
#include <stdlib.h>

// ---- group norm: x [N, C, HW], groups of C/G consecutive channels ----

typedef struct {
    const float *x, *dy, *gamma, *beta;
    float *y, *mean, *rstd, *dx, *pa, *pb;
    int64_t C, HW, G;
    float eps;
    int silu;
} gn_ctx;

// y = x * a + b per channel, then SiLU when fused.
DK_HOT static void affine_row(const float *restrict x, float *restrict y, float a, float b, int64_t n, int silu) {
    if (silu)
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] * a + b;
            y[i] = v * dk_sigmoid(v);
        }
    else
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * a + b;
}

DK_HOT static void gn_fwd_body(void *p, int64_t begin, int64_t end) {
    gn_ctx *c = p;
    int64_t Cg = c->C / c->G, len = Cg * c->HW;
    for (int64_t t = begin; t < end; t++) {  // t = n * G + g
        const float *x = c->x + t * len;
        float *y = c->y + t * len;
        float mean = dk_sum(x, len) / (float)len;
        float var = dk_sumsq_centered(x, mean, len) / (float)len;
        float rstd = 1.0f / sqrtf(var + c->eps);
        c->mean[t] = mean;
        c->rstd[t] = rstd;
        int64_t c0 = (t % c->G) * Cg;
        for (int64_t k = 0; k < Cg; k++) {
            float g = c->gamma ? c->gamma[c0 + k] : 1.0f, b = c->beta ? c->beta[c0 + k] : 0.0f;
            float a = rstd * g;
            affine_row(x + k * c->HW, y + k * c->HW, a, b - mean * a, c->HW, c->silu);
        }
    }
}

// Groups per chunk of work: about 16K values. With 64K, the bench U-Net's 8x8 and 4x4 levels
// (131K and 65K values a norm) ran on one thread.
static int64_t group_grain(int64_t C, int64_t HW, int64_t G) { return 16384 / ((C / G) * HW) + 1; }

int dk_group_norm_forward(const float *x, const float *gamma, const float *beta, float *y, float *mean_out,
                          float *rstd_out, int64_t N, int64_t C, int64_t HW, int64_t G, float eps,
                          int fuse_silu) {
    if (N < 0 || C <= 0 || HW <= 0 || G <= 0 || C % G != 0) return DK_ERR_SHAPE;
    if (N == 0) return 0;
    if (!x || !y || !mean_out || !rstd_out) return DK_ERR_ARG;
    gn_ctx c = {.x = x, .gamma = gamma, .beta = beta, .y = y, .mean = mean_out, .rstd = rstd_out,
                .C = C, .HW = HW, .G = G, .eps = eps, .silu = fuse_silu};
    dk_parallel_for(N * G, group_grain(C, HW, G), &c, gn_fwd_body);
    return 0;
}

// g = dy * silu'(x * a + b), the gradient before the SiLU.
DK_HOT static void silu_grad_row(const float *restrict x, const float *restrict dy, float *restrict g, float a,
                                 float b, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float v = x[i] * a + b, s = dk_sigmoid(v);
        g[i] = dy[i] * s * (1.0f + v * (1.0f - s));
    }
}

// dx = g * k1 + x * k2 + k3, in place over g.
DK_HOT static void gn_dx_row(const float *restrict x, float *restrict g, float k1, float k2, float k3, int64_t n) {
    for (int64_t i = 0; i < n; i++) g[i] = g[i] * k1 + x[i] * k2 + k3;
}

DK_HOT static void copy_row(const float *restrict a, float *restrict b, int64_t n) {
    for (int64_t i = 0; i < n; i++) b[i] = a[i];
}

DK_HOT static void gn_bwd_body(void *p, int64_t begin, int64_t end) {
    gn_ctx *c = p;
    int64_t Cg = c->C / c->G, HW = c->HW, len = Cg * HW;
    for (int64_t t = begin; t < end; t++) {
        const float *x = c->x + t * len, *dy = c->dy + t * len;
        float *dx = c->dx + t * len;  // holds the pre-norm-affine gradient g until the last pass
        float mean = c->mean[t], rstd = c->rstd[t];
        int64_t c0 = (t % c->G) * Cg, n = t / c->G;
        float sgb = 0.0f, sga = 0.0f;
        for (int64_t k = 0; k < Cg; k++) {
            float gm = c->gamma ? c->gamma[c0 + k] : 1.0f, bt = c->beta ? c->beta[c0 + k] : 0.0f;
            if (c->silu) silu_grad_row(x + k * HW, dy + k * HW, dx + k * HW, rstd * gm, bt - mean * rstd * gm, HW);
            else copy_row(dy + k * HW, dx + k * HW, HW);
            float B = dk_sum(dx + k * HW, HW);
            float A = rstd * dk_dot_centered(dx + k * HW, x + k * HW, mean, HW);  // sum g * xhat
            c->pa[n * c->C + c0 + k] = A;
            c->pb[n * c->C + c0 + k] = B;
            sga += gm * A;
            sgb += gm * B;
        }
        float inv_m = 1.0f / (float)len;
        float k2 = -rstd * rstd * sga * inv_m;
        float k3 = -rstd * sgb * inv_m - mean * k2;
        for (int64_t k = 0; k < Cg; k++) {
            float gm = c->gamma ? c->gamma[c0 + k] : 1.0f;
            gn_dx_row(x + k * HW, dx + k * HW, rstd * gm, k2, k3, HW);
        }
    }
}

int dk_group_norm_backward(const float *dy, const float *x, const float *gamma, const float *beta,
                           const float *mean, const float *rstd, float *dx, float *dgamma, float *dbeta,
                           int64_t N, int64_t C, int64_t HW, int64_t G, int fuse_silu) {
    if (N < 0 || C <= 0 || HW <= 0 || G <= 0 || C % G != 0) return DK_ERR_SHAPE;
    if (N == 0) {
        for (int64_t k = 0; k < C; k++) {
            if (dgamma) dgamma[k] = 0.0f;
            if (dbeta) dbeta[k] = 0.0f;
        }
        return 0;
    }
    if (!dy || !x || !mean || !rstd || !dx) return DK_ERR_ARG;
    float *pa = malloc(sizeof(float) * (size_t)(2 * N * C));
    if (!pa) return DK_ERR_ALLOC;
    gn_ctx c = {.x = x, .dy = dy, .gamma = gamma, .beta = beta, .mean = (float *)mean, .rstd = (float *)rstd,
                .dx = dx, .pa = pa, .pb = pa + N * C, .C = C, .HW = HW, .G = G, .silu = fuse_silu};
    dk_parallel_for(N * G, group_grain(C, HW, G), &c, gn_bwd_body);
    // Per-image channel partials added in image order: independent of the thread count.
    for (int64_t k = 0; k < C; k++) {
        float a = 0.0f, b = 0.0f;
        for (int64_t n = 0; n < N; n++) {
            a += c.pa[n * C + k];
            b += c.pb[n * C + k];
        }
        if (dgamma) dgamma[k] = a;
        if (dbeta) dbeta[k] = b;
    }
    free(pa);
    return 0;
}

// ---- layer norm over the last dimension: x [rows, D] ----

#define LN_BLOCK 32  // rows per dgamma/dbeta partial: fixed, so sums never depend on threads

typedef struct {
    const float *x, *dy, *gamma, *beta;
    float *y, *mean, *rstd, *dx, *part;
    int64_t rows, D;
    float eps;
} ln_ctx;

DK_HOT static void ln_affine(const float *restrict x, const float *restrict g, const float *restrict b,
                             float *restrict y, float mean, float rstd, int64_t D) {
    for (int64_t i = 0; i < D; i++) y[i] = (x[i] - mean) * rstd * g[i] + b[i];
}

DK_HOT static void ln_fwd_body(void *p, int64_t begin, int64_t end) {
    ln_ctx *c = p;
    int64_t D = c->D;
    for (int64_t r = begin; r < end; r++) {
        const float *x = c->x + r * D;
        float mean = dk_sum(x, D) / (float)D;
        float rstd = 1.0f / sqrtf(dk_sumsq_centered(x, mean, D) / (float)D + c->eps);
        if (c->mean) c->mean[r] = mean;
        if (c->rstd) c->rstd[r] = rstd;
        ln_affine(x, c->gamma, c->beta, c->y + r * D, mean, rstd, D);
    }
}

static float *ones_zeros(int64_t D) {
    float *p = malloc(sizeof(float) * (size_t)(2 * D));
    if (!p) return NULL;
    for (int64_t i = 0; i < D; i++) {
        p[i] = 1.0f;
        p[D + i] = 0.0f;
    }
    return p;
}

int dk_layer_norm_forward(const float *x, const float *gamma, const float *beta, float *y, float *mean_out,
                          float *rstd_out, int64_t rows, int64_t D, float eps) {
    if (rows < 0 || D <= 0) return DK_ERR_SHAPE;
    if (rows == 0) return 0;
    if (!x || !y) return DK_ERR_ARG;
    float *defaults = NULL;
    if (!gamma || !beta) {
        if (!(defaults = ones_zeros(D))) return DK_ERR_ALLOC;
        if (!gamma) gamma = defaults;
        if (!beta) beta = defaults + D;
    }
    ln_ctx c = {.x = x, .gamma = gamma, .beta = beta, .y = y, .mean = mean_out, .rstd = rstd_out,
                .rows = rows, .D = D, .eps = eps};
    dk_parallel_for(rows, 8192 / D + 1, &c, ln_fwd_body);
    free(defaults);
    return 0;
}

// Pass 1: dx <- xhat, dgamma/dbeta partials; pass 2: dx from the row's two sums.
DK_HOT static void ln_bwd_row(const float *restrict x, const float *restrict dy, const float *restrict g,
                              float *restrict dx, float *restrict pg, float *restrict pb, float mean,
                              float rstd, int64_t D) {
    for (int64_t i = 0; i < D; i++) {
        float xh = (x[i] - mean) * rstd;
        dx[i] = xh;
        pg[i] += dy[i] * xh;
        pb[i] += dy[i];
    }
    float inv_d = 1.0f / (float)D;
    float c1 = dk_dot(dy, g, D) * inv_d, c2 = dk_dot3(dy, g, dx, D) * inv_d;
    for (int64_t i = 0; i < D; i++) dx[i] = rstd * (dy[i] * g[i] - c1 - dx[i] * c2);
}

static void ln_bwd_body(void *p, int64_t begin, int64_t end) {
    ln_ctx *c = p;
    int64_t D = c->D;
    for (int64_t blk = begin; blk < end; blk++) {
        float *pg = c->part + blk * 2 * D, *pb = pg + D;
        for (int64_t i = 0; i < 2 * D; i++) pg[i] = 0.0f;
        int64_t r1 = (blk + 1) * LN_BLOCK < c->rows ? (blk + 1) * LN_BLOCK : c->rows;
        for (int64_t r = blk * LN_BLOCK; r < r1; r++)
            ln_bwd_row(c->x + r * D, c->dy + r * D, c->gamma, c->dx + r * D, pg, pb, c->mean[r], c->rstd[r], D);
    }
}

int dk_layer_norm_backward(const float *dy, const float *x, const float *gamma, const float *mean,
                           const float *rstd, float *dx, float *dgamma, float *dbeta, int64_t rows, int64_t D) {
    if (rows < 0 || D <= 0) return DK_ERR_SHAPE;
    if (rows > 0 && (!dy || !x || !mean || !rstd || !dx)) return DK_ERR_ARG;
    int64_t nblk = (rows + LN_BLOCK - 1) / LN_BLOCK;
    float *part = malloc(sizeof(float) * (size_t)(2 * D * (nblk ? nblk : 1)));
    float *defaults = NULL;
    if (!part) return DK_ERR_ALLOC;
    if (!gamma) {
        if (!(defaults = ones_zeros(D))) { free(part); return DK_ERR_ALLOC; }
        gamma = defaults;
    }
    ln_ctx c = {.x = x, .dy = dy, .gamma = gamma, .mean = (float *)mean, .rstd = (float *)rstd, .dx = dx,
                .part = part, .rows = rows, .D = D};
    dk_parallel_for(nblk, 1, &c, ln_bwd_body);
    // Block partials added in block order.
    for (int64_t i = 0; i < D; i++) {
        float g = 0.0f, b = 0.0f;
        for (int64_t blk = 0; blk < nblk; blk++) {
            g += part[blk * 2 * D + i];
            b += part[blk * 2 * D + D + i];
        }
        if (dgamma) dgamma[i] = g;
        if (dbeta) dbeta[i] = b;
    }
    free(part);
    free(defaults);
    return 0;
}
