// The number format of products (GEMMs, convolutions, attention's two products): float32, bfloat16
// inputs with float32 accumulation on oneDNN's bf16 kernels, or the same arithmetic emulated in
// float32 (operands rounded to bf16 values first) so that any CPU computes bf16's numerics.
#include "CKernels.h"
#include "dk_math.h"
#include <dnnl.h>

extern int omp_in_parallel(void);

static int g_precision = DK_PRECISION_F32;

int dk_bf16_native_supported(void) {
    // oneDNN 2.6 refuses every bf16 primitive below AVX-512 BF16 (AMX implies it): no slow fallback.
    return dnnl_get_effective_cpu_isa() >= dnnl_cpu_isa_avx512_core_bf16;
}

int dk_set_precision(int precision) {
    if (precision != DK_PRECISION_F32 && precision != DK_PRECISION_BF16 && precision != DK_PRECISION_BF16_EMULATED)
        return DK_ERR_ARG;
    if (precision == DK_PRECISION_BF16 && !dk_bf16_native_supported()) return DK_ERR_BACKEND;
    // Native bf16 convolutions read bf16 directly; emulated ones round their operands themselves.
    int rc = dk_conv_set_bf16(precision == DK_PRECISION_BF16);
    if (rc) return rc;
    g_precision = precision;
    return 0;
}

int dk_get_precision(void) { return g_precision; }

// x rounded to the nearest bfloat16 value, kept as a float.
DK_INLINE float round_bf16(float x) {
    uint32_t u = (uint32_t)dk_bf16_bits(x) << 16;
    memcpy(&x, &u, sizeof x);
    return x;
}

// One elementwise conversion of n values, src to dst, split across the threads.
typedef struct { const void *src; void *dst; } convert_ctx;

DK_HOT static void round_body(void *p, int64_t begin, int64_t end) {
    const convert_ctx *c = p;
    const float *src = c->src;
    float *dst = c->dst;
    for (int64_t i = begin; i < end; i++) dst[i] = round_bf16(src[i]);
}

DK_HOT static void to_bf16_body(void *p, int64_t begin, int64_t end) {
    const convert_ctx *c = p;
    const float *src = c->src;
    uint16_t *dst = c->dst;
    for (int64_t i = begin; i < end; i++) dst[i] = dk_bf16_bits(src[i]);
}

DK_HOT static void from_bf16_body(void *p, int64_t begin, int64_t end) {
    const convert_ctx *c = p;
    const uint16_t *src = c->src;
    uint32_t *dst = c->dst;
    for (int64_t i = begin; i < end; i++) dst[i] = (uint32_t)src[i] << 16;
}

static int convert(const void *src, void *dst, int64_t n, void (*body)(void *, int64_t, int64_t)) {
    if (n < 0) return DK_ERR_SHAPE;
    if (n && (!src || !dst)) return DK_ERR_ARG;
    convert_ctx c = {src, dst};
    // Chunks of 16K values (a few microseconds): a training step's trained linear weights, 4 to
    // 500 thousand values each, share both threads.
    dk_parallel_for(n, 1 << 14, &c, body);
    return 0;
}

int dk_round_bf16(const float *src, float *dst, int64_t n) { return convert(src, dst, n, round_body); }

int dk_bf16_from_f32(const float *src, uint16_t *dst, int64_t n) { return convert(src, dst, n, to_bf16_body); }

int dk_f32_from_bf16(const uint16_t *src, float *dst, int64_t n) { return convert(src, dst, n, from_bf16_body); }

// A rows x cols matrix with leading dimension ld, rounded into a packed copy (ld = cols).
static float *rounded_copy(const float *m, int64_t rows, int64_t cols, int64_t ld) {
    float *copy = dk_alloc_floats(rows * cols > 0 ? rows * cols : 1);
    if (!copy) return NULL;
    for (int64_t r = 0; r < rows; r++) {
        convert_ctx c = {m + r * ld, copy + r * cols};
        round_body(&c, 0, cols);
    }
    return copy;
}

static int gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc, int weights) {
    int64_t minA = trans_a ? M : K, minB = trans_b ? K : N;
    int sizes_ok = M > 0 && N > 0 && K > 0 && lda >= minA && ldb >= minB && ldc >= N;
    if (g_precision == DK_PRECISION_BF16 && sizes_ok && !omp_in_parallel()) {
        // Inside a parallel region (many small products, one per thread) the shared primitive
        // cache would serialise them: those stay float32, as does any shape oneDNN refuses.
        if (dk_matmul_weights(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1, weights) == 0)
            return 0;
    }
    if (g_precision != DK_PRECISION_BF16_EMULATED || !sizes_ok || !A || !B || !C)
        return dk_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    // Stored shapes: A is [M, K] ([K, M] transposed), B is [K, N] ([N, K] transposed).
    int64_t ar = trans_a ? K : M, ac = trans_a ? M : K, br = trans_b ? N : K, bc = trans_b ? K : N;
    float *a = rounded_copy(A, ar, ac, lda), *b = a ? rounded_copy(B, br, bc, ldb) : NULL;
    int rc = b ? dk_sgemm(trans_a, trans_b, M, N, K, alpha, a, ac, b, bc, beta, C, ldc) : DK_ERR_ALLOC;
    dk_free(a);
    dk_free(b);
    return rc;
}

int dk_gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
            int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    return gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 0);
}

int dk_gemm_weights(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                    int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    return gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1);
}

int dk_gemm_bf16_weights(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                         int64_t lda, const uint16_t *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    int64_t minA = trans_a ? M : K, minB = trans_b ? K : N;
    int sizes_ok = M > 0 && N > 0 && K > 0 && lda >= minA && ldb >= minB && ldc >= N;
    if (g_precision == DK_PRECISION_BF16 && sizes_ok && !omp_in_parallel() &&
        dk_matmul_bf16_weights(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc) == 0)
        return 0;
    // Elsewhere (float32 or emulated products, a parallel region): on B's float32 values.
    int64_t rows = trans_b ? N : K, cols = trans_b ? K : N;
    if (rows < 0 || cols < 0 || ldb < cols) return DK_ERR_SHAPE;
    if (rows * cols && !B) return DK_ERR_ARG;
    float *b = dk_alloc_floats(rows * cols > 0 ? rows * cols : 1);
    if (!b) return DK_ERR_ALLOC;
    for (int64_t r = 0; r < rows; r++) dk_f32_from_bf16(B + r * ldb, b + r * cols, cols);
    int rc = gemm(trans_a, trans_b, M, N, K, alpha, A, lda, b, cols, beta, C, ldc, 0);
    dk_free(b);
    return rc;
}

int dk_linear(int64_t M, int64_t N, int64_t K, const void *x, int x_bf16, const void *w, int w_bf16, int keep_w,
              const float *bias, void *y, int y_bf16) {
    if (M < 0 || N < 0 || K < 0) return DK_ERR_SHAPE;
    if (g_precision == DK_PRECISION_BF16 && M && N && K && x && w && y && !omp_in_parallel() &&
        dk_matmul_linear(M, N, K, x, x_bf16, w, w_bf16, keep_w, bias, y, y_bf16) == 0)
        return 0;
    if (y_bf16) {  // elsewhere in float32, then rounded
        if (M * N && !y) return DK_ERR_ARG;
        float *y32 = dk_alloc_floats(M * N > 0 ? M * N : 1);
        if (!y32) return DK_ERR_ALLOC;
        int rc = dk_linear(M, N, K, x, x_bf16, w, w_bf16, keep_w, bias, y32, 0);
        if (!rc) rc = dk_bf16_from_f32(y32, y, M * N);
        dk_free(y32);
        return rc;
    }
    if (x_bf16) {  // elsewhere on x's float32 values (exact)
        if (M * K && !x) return DK_ERR_ARG;
        float *x32 = dk_alloc_floats(M * K > 0 ? M * K : 1);
        if (!x32) return DK_ERR_ALLOC;
        dk_f32_from_bf16(x, x32, M * K);
        int rc = dk_linear(M, N, K, x32, 0, w, w_bf16, keep_w, bias, y, 0);
        dk_free(x32);
        return rc;
    }
    // Elsewhere the bias is laid into y and the product accumulates onto it: a pass over y fewer
    // than adding it afterwards.
    if (bias && M && N) {
        int rc = dk_repeat_rows(bias, y, M, N);
        if (rc) return rc;
    }
    float beta = bias ? 1.0f : 0.0f;
    if (w_bf16) return dk_gemm_bf16_weights(0, 1, M, N, K, 1.0f, x, K, (const uint16_t *)w, K, beta, y, N);
    return gemm(0, 1, M, N, K, 1.0f, x, K, (const float *)w, K, beta, y, N, keep_w);
}
