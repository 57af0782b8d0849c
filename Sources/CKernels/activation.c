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
// Under bf16 the input, the output and the input's gradient may be bf16 bits: a chunk of each row
// is widened into float32 and its results rounded from float32 (one loop of both vectorises poorly).
#define GEGLU_CHUNK 256
typedef struct {
    const float *x, *dy;
    const uint16_t *x16;  // x as bf16 bits instead
    float *out;
    uint16_t *out16;      // y (forward) or dx (backward) as bf16 bits instead of out
    int64_t inner;
    int vcvt;             // AVX-512 BF16's rounding instruction is there
} geglu_ctx;

DK_INLINE void widen_bf16(const uint16_t *restrict src, float *restrict dst, int64_t n) {
    for (int64_t j = 0; j < n; j++) {
        uint32_t u = (uint32_t)src[j] << 16;
        memcpy(dst + j, &u, sizeof u);
    }
}

DK_INLINE void round_bf16_into(const geglu_ctx *c, const float *restrict src, uint16_t *restrict dst, int64_t n) {
    if (c->vcvt) dk_bf16_pack_rows(src, 1, n, n, dst, n);
    else for (int64_t j = 0; j < n; j++) dst[j] = dk_bf16_bits(src[j]);
}

// Row r's values j0 .. j0 + n of h and g, as float32: in x, or widened into the buffers.
DK_INLINE void geglu_inputs(const geglu_ctx *c, int64_t r, int64_t j0, int64_t n, float *hb, float *gb,
                            const float **h, const float **g) {
    if (c->x16) {
        widen_bf16(c->x16 + r * 2 * c->inner + j0, hb, n);
        widen_bf16(c->x16 + r * 2 * c->inner + c->inner + j0, gb, n);
        *h = hb, *g = gb;
    } else {
        *h = c->x + r * 2 * c->inner + j0, *g = *h + c->inner;
    }
}

DK_HOT static void geglu_fwd_body(void *p, int64_t begin, int64_t end) {
    const geglu_ctx *c = p;
    const int64_t inner = c->inner;
    float hb[GEGLU_CHUNK], gb[GEGLU_CHUNK], yb[GEGLU_CHUNK];
    for (int64_t r = begin; r < end; r++)
        for (int64_t j0 = 0; j0 < inner; j0 += GEGLU_CHUNK) {
            const int64_t n = inner - j0 < GEGLU_CHUNK ? inner - j0 : GEGLU_CHUNK;
            const float *hp, *gp;
            geglu_inputs(c, r, j0, n, hb, gb, &hp, &gp);
            const float *restrict h = hp, *restrict g = gp;
            float *restrict y = c->out16 ? yb : c->out + r * inner + j0;
            for (int64_t j = 0; j < n; j++) y[j] = h[j] * (g[j] * dk_phi(g[j]));
            if (c->out16) round_bf16_into(c, yb, c->out16 + r * inner + j0, n);
        }
}

DK_HOT static void geglu_bwd_body(void *p, int64_t begin, int64_t end) {
    const geglu_ctx *c = p;
    const int64_t inner = c->inner;
    float hb[GEGLU_CHUNK], gb[GEGLU_CHUNK], dhb[GEGLU_CHUNK], dgb[GEGLU_CHUNK];
    for (int64_t r = begin; r < end; r++)
        for (int64_t j0 = 0; j0 < inner; j0 += GEGLU_CHUNK) {
            const int64_t n = inner - j0 < GEGLU_CHUNK ? inner - j0 : GEGLU_CHUNK;
            const float *hp, *gp;
            geglu_inputs(c, r, j0, n, hb, gb, &hp, &gp);
            const float *restrict h = hp, *restrict g = gp, *restrict dy = c->dy + r * inner + j0;
            float *restrict dh = c->out16 ? dhb : c->out + r * 2 * inner + j0;
            float *restrict dg = c->out16 ? dgb : dh + inner;
            for (int64_t j = 0; j < n; j++) {
                float v = g[j];
                dh[j] = dy[j] * (v * dk_phi(v));
                dg[j] = (dy[j] * h[j]) * (dk_phi(v) + v * INV_SQRT_2PI * dk_exp(-0.5f * v * v));
            }
            if (c->out16) {
                round_bf16_into(c, dhb, c->out16 + r * 2 * inner + j0, n);
                round_bf16_into(c, dgb, c->out16 + r * 2 * inner + inner + j0, n);
            }
        }
}

static int64_t geglu_grain(int64_t inner) { return ACT_GRAIN / inner + 1; }

static int geglu(const geglu_ctx *c, int64_t rows, void (*body)(void *, int64_t, int64_t)) {
    if (rows < 0 || c->inner <= 0) return DK_ERR_SHAPE;
    if (rows && (!(c->x || c->x16) || !(c->out || c->out16) || (body == geglu_bwd_body && !c->dy))) return DK_ERR_ARG;
    dk_parallel_for(rows, geglu_grain(c->inner), (void *)c, body);
    return 0;
}

int dk_geglu_forward(const float *x, float *y, int64_t rows, int64_t inner) {
    return geglu(&(geglu_ctx){.x = x, .out = y, .inner = inner}, rows, geglu_fwd_body);
}

int dk_geglu_forward_bf16(const float *x, uint16_t *y, int64_t rows, int64_t inner) {
    return geglu(&(geglu_ctx){.x = x, .out16 = y, .inner = inner, .vcvt = dk_bf16_gemm_available()}, rows, geglu_fwd_body);
}

int dk_geglu_forward_bf16_input(const uint16_t *x, uint16_t *y, int64_t rows, int64_t inner) {
    return geglu(&(geglu_ctx){.x16 = x, .out16 = y, .inner = inner, .vcvt = dk_bf16_gemm_available()}, rows, geglu_fwd_body);
}

int dk_geglu_backward(const float *x, const float *dy, float *dx, int64_t rows, int64_t inner) {
    return geglu(&(geglu_ctx){.x = x, .dy = dy, .out = dx, .inner = inner}, rows, geglu_bwd_body);
}

int dk_geglu_backward_bf16(const uint16_t *x, const float *dy, uint16_t *dx, int64_t rows, int64_t inner) {
    return geglu(&(geglu_ctx){.x16 = x, .dy = dy, .out16 = dx, .inner = inner, .vcvt = dk_bf16_gemm_available()}, rows,
                 geglu_bwd_body);
}
