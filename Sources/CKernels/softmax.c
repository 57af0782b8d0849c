// Softmax over the last dimension, forward and backward.
#include "CKernels.h"
#include "dk_math.h"

DK_HOT static void softmax_rows(const float *restrict x, float *restrict y, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = dk_max(xr, cols);
        if (m == -INFINITY) m = 0.0f;  // a fully masked row gives zeros / 0 -> NaN, like torch
        for (int64_t i = 0; i < cols; i++) yr[i] = dk_exp(xr[i] - m);
        float inv = 1.0f / dk_sum(yr, cols);
        for (int64_t i = 0; i < cols; i++) yr[i] *= inv;
    }
}

DK_HOT static void softmax_bwd_rows(const float *restrict y, const float *restrict dy, float *restrict dx,
                                    int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++) {
        const float *yr = y + r * cols, *gr = dy + r * cols;
        float *dr = dx + r * cols;
        float dot = dk_dot(yr, gr, cols);
        for (int64_t i = 0; i < cols; i++) dr[i] = yr[i] * (gr[i] - dot);
    }
}

typedef struct { const float *a, *b; float *out; int64_t cols; } sm_ctx;

static void fwd_body(void *p, int64_t b, int64_t e) {
    sm_ctx *c = p;
    softmax_rows(c->a + b * c->cols, c->out + b * c->cols, e - b, c->cols);
}

static void bwd_body(void *p, int64_t b, int64_t e) {
    sm_ctx *c = p;
    softmax_bwd_rows(c->a + b * c->cols, c->b + b * c->cols, c->out + b * c->cols, e - b, c->cols);
}

static int64_t row_grain(int64_t cols) { return cols >= 8192 ? 1 : 8192 / cols; }

int dk_softmax_forward(const float *x, float *y, int64_t rows, int64_t cols) {
    if (rows < 0 || cols <= 0) return DK_ERR_SHAPE;
    if (rows && (!x || !y)) return DK_ERR_ARG;
    sm_ctx c = {x, NULL, y, cols};
    dk_parallel_for(rows, row_grain(cols), &c, fwd_body);
    return 0;
}

int dk_softmax_backward(const float *y, const float *dy, float *dx, int64_t rows, int64_t cols) {
    if (rows < 0 || cols <= 0) return DK_ERR_SHAPE;
    if (rows && (!y || !dy || !dx)) return DK_ERR_ARG;
    sm_ctx c = {y, dy, dx, cols};
    dk_parallel_for(rows, row_grain(cols), &c, bwd_body);
    return 0;
}
