// Elementwise arithmetic with the broadcast patterns the models use (same shape, a scalar, a
// per-channel or per-feature vector), a sum back to such a vector, and the AdamW update.
#include "CKernels.h"
#include "dk_math.h"
#include <string.h>

typedef struct {
    int op, b_mode;
    const float *a, *b;
    float *out;
    int64_t mid, inner;
    float scalar;
} binary_ctx;

// out[0..n) = x op y[0..n)
#define DK_ZIP(op_expr)                                                                            \
    for (int64_t i = 0; i < n; i++) { float u = x[i], v = y[i]; out[i] = (op_expr); }
// out[0..n) = x op s
#define DK_WITH(op_expr)                                                                           \
    for (int64_t i = 0; i < n; i++) { float u = x[i], v = s; out[i] = (op_expr); }

DK_HOT static void zip_run(int op, const float *restrict x, const float *restrict y, float *restrict out,
                           int64_t n) {
    switch (op) {
    case DK_OP_ADD: DK_ZIP(u + v) break;
    case DK_OP_SUB: DK_ZIP(u - v) break;
    case DK_OP_MUL: DK_ZIP(u * v) break;
    case DK_OP_DIV: DK_ZIP(u / v) break;
    case DK_OP_RSUB: DK_ZIP(v - u) break;
    case DK_OP_RDIV: DK_ZIP(v / u) break;
    }
}

DK_HOT static void with_run(int op, const float *restrict x, float s, float *restrict out, int64_t n) {
    switch (op) {
    case DK_OP_ADD: DK_WITH(u + v) break;
    case DK_OP_SUB: DK_WITH(u - v) break;
    case DK_OP_MUL: DK_WITH(u * v) break;
    case DK_OP_DIV: DK_WITH(u / v) break;
    case DK_OP_RSUB: DK_WITH(v - u) break;
    case DK_OP_RDIV: DK_WITH(v / u) break;
    }
}

// Elements [begin, end) of the output, walked in runs that share one broadcast index.
static void binary_body(void *p, int64_t begin, int64_t end) {
    binary_ctx *c = p;
    if (c->b_mode == DK_BCAST_FULL) {
        zip_run(c->op, c->a + begin, c->b + begin, c->out + begin, end - begin);
    } else if (c->b_mode == DK_BCAST_SCALAR) {
        with_run(c->op, c->a + begin, c->scalar, c->out + begin, end - begin);
    } else if (c->inner == 1) {  // b is a vector along the last axis: runs of `mid`
        for (int64_t i = begin; i < end;) {
            int64_t m = i % c->mid, n = c->mid - m < end - i ? c->mid - m : end - i;
            zip_run(c->op, c->a + i, c->b + m, c->out + i, n);
            i += n;
        }
    } else {  // b[(i / inner) % mid]: runs of `inner` against one value
        for (int64_t i = begin; i < end;) {
            int64_t row = i / c->inner, k = i - row * c->inner;
            int64_t n = c->inner - k < end - i ? c->inner - k : end - i;
            with_run(c->op, c->a + i, c->b[row % c->mid], c->out + i, n);
            i += n;
        }
    }
}

int dk_binary(int op, const float *a, const float *b, float *out, int64_t total, int b_mode, int64_t mid,
              int64_t inner) {
    if (total < 0 || op < DK_OP_ADD || op > DK_OP_RDIV) return DK_ERR_ARG;
    if (b_mode == DK_BCAST_PATTERN && (mid < 1 || inner < 1)) return DK_ERR_SHAPE;
    if (total == 0) return 0;
    if (!a || !b || !out) return DK_ERR_ARG;
    binary_ctx c = {op, b_mode, a, b, out, mid, inner, b_mode == DK_BCAST_SCALAR ? b[0] : 0.0f};
    dk_parallel_for(total, 32768, &c, binary_body);
    return 0;
}

int dk_scalar(int op, const float *a, float s, float *out, int64_t n) {
    if (n < 0 || op < DK_OP_ADD || op > DK_OP_RDIV) return DK_ERR_ARG;
    if (n == 0) return 0;
    if (!a || !out) return DK_ERR_ARG;
    binary_ctx c = {op, DK_BCAST_SCALAR, a, NULL, out, 1, 1, s};
    dk_parallel_for(n, 32768, &c, binary_body);
    return 0;
}

typedef struct { const float *src; float *dst; int64_t outer, mid, inner; } sum_ctx;

DK_HOT static void add_into(float *restrict acc, const float *restrict x, int64_t n) {
    for (int64_t i = 0; i < n; i++) acc[i] += x[i];
}

// dst[m] for m in [begin, end): the sum over outer blocks, each block's run in order.
static void sum_body(void *p, int64_t begin, int64_t end) {
    sum_ctx *c = p;
    if (c->inner == 1) {  // column sums: add whole row slices, in row order
        for (int64_t m = begin; m < end; m++) c->dst[m] = 0.0f;
        for (int64_t o = 0; o < c->outer; o++) add_into(c->dst + begin, c->src + o * c->mid + begin, end - begin);
        return;
    }
    for (int64_t m = begin; m < end; m++) {
        float total = 0.0f;
        for (int64_t o = 0; o < c->outer; o++) total += dk_sum(c->src + (o * c->mid + m) * c->inner, c->inner);
        c->dst[m] = total;
    }
}

int dk_sum_to_pattern(const float *src, float *dst, int64_t outer, int64_t mid, int64_t inner) {
    if (outer < 0 || mid < 1 || inner < 1) return DK_ERR_SHAPE;
    if (!src || !dst) return DK_ERR_ARG;
    sum_ctx c = {src, dst, outer, mid, inner};
    int64_t per = outer * inner;
    dk_parallel_for(mid, c.inner == 1 ? 256 : 16384 / (per + 1) + 1, &c, sum_body);
    return 0;
}

// Column sums of a tall gradient [rows, cols] (a linear layer's bias gradient; often 64 or 128
// columns, too few to share): blocks of SUM_ROWS rows are summed apart, by either thread, then
// the blocks in order, so the order is fixed whatever the thread count. A float32 source may be
// rounded to bf16 bits in the same pass (the gradient's operand for the layer's bf16 products).
#define SUM_ROWS 256

typedef struct {
    const float *src32;
    const uint16_t *src16;
    uint16_t *rounded;  // NULL, or src32 rounded to bf16 bits
    float *partial;     // [blocks][cols]
    int64_t rows, cols;
} column_sums_ctx;

DK_HOT static void column_sums_body(void *p, int64_t b0, int64_t b1) {
    const column_sums_ctx *c = p;
    const int64_t cols = c->cols;
    for (int64_t b = b0; b < b1; b++) {
        float *restrict acc = c->partial + b * cols;
        for (int64_t j = 0; j < cols; j++) acc[j] = 0.0f;
        int64_t r1 = (b + 1) * SUM_ROWS < c->rows ? (b + 1) * SUM_ROWS : c->rows;
        for (int64_t r = b * SUM_ROWS; r < r1; r++) {
            if (c->src32) {
                const float *restrict x = c->src32 + r * cols;
                for (int64_t j = 0; j < cols; j++) acc[j] += x[j];
                if (c->rounded) {
                    uint16_t *restrict y = c->rounded + r * cols;
                    for (int64_t j = 0; j < cols; j++) y[j] = dk_bf16_bits(x[j]);
                }
            } else {
                const uint16_t *restrict x = c->src16 + r * cols;
                for (int64_t j = 0; j < cols; j++) {
                    uint32_t u = (uint32_t)x[j] << 16;
                    float v;
                    memcpy(&v, &u, sizeof v);
                    acc[j] += v;
                }
            }
        }
    }
}

static int column_sums(column_sums_ctx *c, float *dst) {
    if (c->rows < 0 || c->cols < 1) return DK_ERR_SHAPE;
    if (!(c->src32 || c->src16) || !dst) return DK_ERR_ARG;
    int64_t blocks = (c->rows + SUM_ROWS - 1) / SUM_ROWS;
    c->partial = dk_alloc_floats(blocks * c->cols + 1);
    if (!c->partial) return DK_ERR_ALLOC;
    dk_parallel_for(blocks, 1, c, column_sums_body);
    for (int64_t j = 0; j < c->cols; j++) dst[j] = 0.0f;
    for (int64_t b = 0; b < blocks; b++)
        for (int64_t j = 0; j < c->cols; j++) dst[j] += c->partial[b * c->cols + j];
    dk_free(c->partial);
    return 0;
}

int dk_bf16_column_sums(const uint16_t *src, float *dst, int64_t rows, int64_t cols) {
    column_sums_ctx c = {.src16 = src, .rows = rows, .cols = cols};
    return column_sums(&c, dst);
}

int dk_bf16_from_f32_column_sums(const float *src, uint16_t *dst, float *sums, int64_t rows, int64_t cols) {
    if (rows * cols && !dst) return DK_ERR_ARG;
    column_sums_ctx c = {.src32 = src, .rounded = dst, .rows = rows, .cols = cols};
    return column_sums(&c, sums);
}

typedef struct {
    float *w, *m, *v;
    const float *g;
    float grad_scale, lr, b1, b2, eps, decay, c1, c2;
} adamw_ctx;

DK_HOT static void adamw_body(void *p, int64_t begin, int64_t end) {
    adamw_ctx *c = p;
    float *restrict w = c->w, *restrict m = c->m, *restrict v = c->v;
    const float *restrict g = c->g;
    const float b1 = c->b1, b2 = c->b2, scale = c->grad_scale, decay = c->decay;
    const float step = c->lr / c->c1, inv_c2 = 1.0f / c->c2, eps = c->eps;
    for (int64_t i = begin; i < end; i++) {
        float gi = g[i] * scale;
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * decay - step * mi / (sqrtf(vi * inv_c2) + eps);
    }
}

int dk_adamw_update(float *w, const float *g, float *m, float *v, int64_t n, float grad_scale, float lr,
                    float beta1, float beta2, float eps, float weight_decay, float bias_c1, float bias_c2) {
    if (n < 0) return DK_ERR_SHAPE;
    if (n == 0) return 0;
    if (!w || !g || !m || !v || bias_c1 <= 0.0f || bias_c2 <= 0.0f) return DK_ERR_ARG;
    adamw_ctx c = {w, m, v, g, grad_scale, lr, beta1, beta2, eps, 1.0f - lr * weight_decay, bias_c1, bias_c2};
    dk_parallel_for(n, 8192, &c, adamw_body);  // a 64-channel 3x3 layer's 37K weights share both threads
    return 0;
}

typedef struct { const float *row; float *out; int64_t cols; } rows_ctx;

static void rows_body(void *p, int64_t begin, int64_t end) {
    rows_ctx *c = p;
    for (int64_t r = begin; r < end; r++) memcpy(c->out + r * c->cols, c->row, (size_t)c->cols * sizeof(float));
}

int dk_repeat_rows(const float *row, float *out, int64_t rows, int64_t cols) {
    if (rows < 0 || cols < 0) return DK_ERR_SHAPE;
    if (rows == 0 || cols == 0) return 0;
    if (!row || !out) return DK_ERR_ARG;
    rows_ctx c = {row, out, cols};
    dk_parallel_for(rows, 32768 / cols + 1, &c, rows_body);
    return 0;
}
