// Pointwise activations (SiLU, GELU erf/tanh, quick-GELU) and GEGLU, forward and backward.
#include "CKernels.h"
#include "dk_math.h"

#define GELU_TANH_C 0.7978845608028654f  // sqrt(2 / pi)
#define GELU_TANH_A 0.044715f
#define INV_SQRT_2PI 0.3989422804014327f

DK_HOT static void act_fwd(int kind, const float *restrict x, float *restrict y, int64_t n) {
    switch (kind) {
    case DK_ACT_SILU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * dk_sigmoid(x[i]);
        break;
    case DK_ACT_GELU_ERF:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * dk_phi(x[i]);
        break;
    case DK_ACT_GELU_TANH:  // 0.5 x (1 + tanh u) = x sigmoid(2u)
        for (int64_t i = 0; i < n; i++) {
            float v = x[i], u = GELU_TANH_C * (v + GELU_TANH_A * v * v * v);
            y[i] = v * dk_sigmoid(2.0f * u);
        }
        break;
    case DK_ACT_QUICK_GELU:
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * dk_sigmoid(1.702f * x[i]);
        break;
    }
}

DK_HOT static void act_bwd(int kind, const float *restrict x, const float *restrict dy, float *restrict dx,
                           int64_t n) {
    switch (kind) {
    case DK_ACT_SILU:
        for (int64_t i = 0; i < n; i++) {
            float s = dk_sigmoid(x[i]);
            dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
        }
        break;
    case DK_ACT_GELU_ERF:  // Phi(x) + x phi(x)
        for (int64_t i = 0; i < n; i++) {
            float v = x[i];
            dx[i] = dy[i] * (dk_phi(v) + v * INV_SQRT_2PI * dk_exp(-0.5f * v * v));
        }
        break;
    case DK_ACT_GELU_TANH:
        for (int64_t i = 0; i < n; i++) {
            float v = x[i], u = GELU_TANH_C * (v + GELU_TANH_A * v * v * v);
            float s = dk_sigmoid(2.0f * u);
            float du = GELU_TANH_C * (1.0f + 3.0f * GELU_TANH_A * v * v);
            dx[i] = dy[i] * (s + v * 2.0f * s * (1.0f - s) * du);
        }
        break;
    case DK_ACT_QUICK_GELU:
        for (int64_t i = 0; i < n; i++) {
            float s = dk_sigmoid(1.702f * x[i]);
            dx[i] = dy[i] * s * (1.0f + 1.702f * x[i] * (1.0f - s));
        }
        break;
    }
}

typedef struct { int kind; const float *x, *dy; float *out; } act_ctx;

static void fwd_body(void *p, int64_t b, int64_t e) {
    act_ctx *c = p;
    act_fwd(c->kind, c->x + b, c->out + b, e - b);
}

static void bwd_body(void *p, int64_t b, int64_t e) {
    act_ctx *c = p;
    act_bwd(c->kind, c->x + b, c->dy + b, c->out + b, e - b);
}

#define ACT_GRAIN 16384

int dk_activation_forward(int kind, const float *x, float *y, int64_t n) {
    if (kind < DK_ACT_SILU || kind > DK_ACT_QUICK_GELU) return DK_ERR_ARG;
    if (n < 0) return DK_ERR_SHAPE;
    if (n && (!x || !y)) return DK_ERR_ARG;
    act_ctx c = {kind, x, NULL, y};
    dk_parallel_for(n, ACT_GRAIN, &c, fwd_body);
    return 0;
}

int dk_activation_backward(int kind, const float *x, const float *dy, float *dx, int64_t n) {
    if (kind < DK_ACT_SILU || kind > DK_ACT_QUICK_GELU) return DK_ERR_ARG;
    if (n < 0) return DK_ERR_SHAPE;
    if (n && (!x || !dy || !dx)) return DK_ERR_ARG;
    act_ctx c = {kind, x, dy, dx};
    dk_parallel_for(n, ACT_GRAIN, &c, bwd_body);
    return 0;
}

// GEGLU: y [rows, inner] = h * gelu(g) for each row x = [h | g] of 2 * inner values: one pass
// instead of two slices, a GELU and a product (the SD 1.5 U-Net's feed-forwards wrote 84 MB of
// temporaries at 64x64). The same float operations as that composite, in the same order.
typedef struct { const float *x, *dy; float *out; uint16_t *out16; int64_t inner; } geglu_ctx;

// Into out, or into out16 as bf16 bits (bf16 inference: the next linear layer reads them as they are).
DK_HOT static void geglu_fwd_body(void *p, int64_t begin, int64_t end) {
    const geglu_ctx *c = p;
    const int64_t inner = c->inner;
    for (int64_t r = begin; r < end; r++) {
        const float *restrict h = c->x + r * 2 * inner, *restrict g = h + inner;
        if (c->out16) {
            uint16_t *restrict y = c->out16 + r * inner;
            for (int64_t j = 0; j < inner; j++) y[j] = dk_bf16_bits(h[j] * (g[j] * dk_phi(g[j])));
        } else {
            float *restrict y = c->out + r * inner;
            for (int64_t j = 0; j < inner; j++) y[j] = h[j] * (g[j] * dk_phi(g[j]));
        }
    }
}

DK_HOT static void geglu_bwd_body(void *p, int64_t begin, int64_t end) {
    const geglu_ctx *c = p;
    const int64_t inner = c->inner;
    for (int64_t r = begin; r < end; r++) {
        const float *restrict h = c->x + r * 2 * inner, *restrict g = h + inner, *restrict dy = c->dy + r * inner;
        float *restrict dh = c->out + r * 2 * inner, *restrict dg = dh + inner;
        for (int64_t j = 0; j < inner; j++) {
            float v = g[j];
            dh[j] = dy[j] * (v * dk_phi(v));
            dg[j] = (dy[j] * h[j]) * (dk_phi(v) + v * INV_SQRT_2PI * dk_exp(-0.5f * v * v));
        }
    }
}

static int64_t geglu_grain(int64_t inner) { return ACT_GRAIN / inner + 1; }

int dk_geglu_forward(const float *x, float *y, int64_t rows, int64_t inner) {
    if (rows < 0 || inner <= 0) return DK_ERR_SHAPE;
    if (rows && (!x || !y)) return DK_ERR_ARG;
    geglu_ctx c = {x, NULL, y, NULL, inner};
    dk_parallel_for(rows, geglu_grain(inner), &c, geglu_fwd_body);
    return 0;
}

int dk_geglu_forward_bf16(const float *x, uint16_t *y, int64_t rows, int64_t inner) {
    if (rows < 0 || inner <= 0) return DK_ERR_SHAPE;
    if (rows && (!x || !y)) return DK_ERR_ARG;
    geglu_ctx c = {x, NULL, NULL, y, inner};
    dk_parallel_for(rows, geglu_grain(inner), &c, geglu_fwd_body);
    return 0;
}

int dk_geglu_backward(const float *x, const float *dy, float *dx, int64_t rows, int64_t inner) {
    if (rows < 0 || inner <= 0) return DK_ERR_SHAPE;
    if (rows && (!x || !dy || !dx)) return DK_ERR_ARG;
    geglu_ctx c = {x, dy, dx, NULL, inner};
    dk_parallel_for(rows, geglu_grain(inner), &c, geglu_bwd_body);
    return 0;
}
