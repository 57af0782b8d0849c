// CKernels: C compute kernels for TensorCore, all running on libgomp's one thread pool.
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>

// ---- threads (parallel.c) ----
/// Sets the number of threads used by every kernel and oneDNN (one OpenMP pool).
void dk_set_threads(int n);
int dk_get_threads(void);
/// Called first thing in main: unless $OMP_WAIT_POLICY or $GOMP_SPINCOUNT is set, sets libgomp's
/// spin count to a short one and re-executes the program (argv unchanged, same process id) so
/// that libgomp reads it; threads waiting for work then soon sleep instead of spinning on cores
/// that another busy process needs. Returns only if nothing was done or the exec failed.
void dk_apply_wait_policy(char *const argv[]);
/// Runs body(ctx, begin, end) over [0, n) split into contiguous chunks, one per thread.
/// Chunks depend only on n and the thread count; body must not depend on which thread
/// runs it. Runs inline when n is small or when already inside a parallel region.
void dk_parallel_for(int64_t n, int64_t min_chunk, void *ctx,
                     void (*body)(void *ctx, int64_t begin, int64_t end));

// ---- errors ----
// Every kernel returns 0 on success or one of these; none aborts on bad sizes.
enum {
    DK_OK = 0,
    DK_ERR_SHAPE = 1,    // a size is negative/zero where it must not be, or sizes disagree
    DK_ERR_ARG = 2,      // a required pointer is NULL or an enum value is unknown
    DK_ERR_ALLOC = 3,    // out of memory
    DK_ERR_BACKEND = 4,  // oneDNN refused or failed
};

// ---- memory and BLAS (memory.c) ----
/// 64-byte aligned float buffer (free with dk_free, which keeps the last few freed blocks of 32 MB
/// and more mapped for reuse); NULL on failure.
float *dk_alloc_floats(int64_t n);
void dk_free(void *p);
/// dst[0..<n] = src[0..<n], in parallel.
int dk_copy(const float *src, float *dst, int64_t n);
/// db[k] = sum over n, hw of dy [N, K, HW].
int dk_bias_grad_nchw(const float *dy, float *db, int64_t N, int64_t K, int64_t HW);
/// Row-major C [M, N] = alpha * op(A) . op(B) + beta * C (oneDNN's sgemm: faster than OpenBLAS on
/// every shape measured, twice as fast on attention's narrow products).
int dk_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
             int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

// ---- precision of products (precision.c) ----
enum {
    DK_PRECISION_F32 = 0,            // float32 throughout (the default)
    DK_PRECISION_BF16 = 1,           // oneDNN's bf16 kernels: bf16 inputs, float32 accumulation and outputs
    DK_PRECISION_BF16_EMULATED = 2,  // the same numerics on any CPU: float32 kernels on operands
                                     // rounded to bf16 (slower than float32; for tests)
};
/// 1 when this CPU runs oneDNN's bf16 kernels natively (AVX-512 BF16 or AMX), else 0.
int dk_bf16_native_supported(void);
/// Sets the precision of every later forward convolution, attention forward and GEMM through
/// dk_gemm (Tensor's matmul and linear), forward and backward: convolutions' gradients too where
/// oneDNN's bf16 gradient kernels pass their check (dk_conv_set_bf16), attention's always.
/// DK_ERR_BACKEND (nothing changed) for DK_PRECISION_BF16 on a CPU
/// without native bf16.
int dk_set_precision(int precision);
int dk_get_precision(void);
/// dst[i] = src[i] rounded to the nearest bfloat16 value (ties to even; NaN stays NaN); dst may be src.
int dk_round_bf16(const float *src, float *dst, int64_t n);
/// dk_sgemm in the current precision: under DK_PRECISION_BF16_EMULATED the operands are rounded
/// to bf16 first (products of bf16 values are exact in float32, so this is bf16 x bf16 -> f32).
int dk_gemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
            int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/// dk_gemm where B is a model weight: inside a frozen-weights scope (dk_weights_frozen_begin) its
/// bf16 conversion is kept across calls instead of redone on each.
int dk_gemm_weights(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                    int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/// dk_gemm where B is a weight stored as bf16 (bf16 inference): under DK_PRECISION_BF16 the
/// product reads it as it is, with no conversion or copy; in any other precision it runs on
/// B's float32 values.
int dk_gemm_bf16_weights(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                         int64_t lda, const uint16_t *B, int64_t ldb, float beta, float *C, int64_t ldc);
/// nn.Linear's forward in the current precision: y [M, N] = x [M, K] . W^T + bias [N] (bias may
/// be NULL). x holds float32 values (x_bf16 = 0) or bf16 bits (x_bf16 = 1: an input rounded
/// already, read in place by bf16 products). W [N, K] holds float32 values (w_bf16 = 0; keep_w as
/// dk_gemm_weights) or bf16 bits (w_bf16 = 1, as dk_gemm_bf16_weights). Under DK_PRECISION_BF16
/// the bias is added in the product's epilogue, with no pass of its own over y. y holds float32
/// values, or bf16 bits when y_bf16 (rounded from the float32 result: a bf16 layer's output that
/// only bf16 readers take).
int dk_linear(int64_t M, int64_t N, int64_t K, const void *x, int x_bf16, const void *w, int w_bf16, int keep_w,
              const float *bias, void *y, int y_bf16);
/// dst[i] = src[i] rounded to bfloat16 (ties to even), as bf16 bits.
int dk_bf16_from_f32(const float *src, uint16_t *dst, int64_t n);
/// dst[i] = the float32 value of bf16 bits src[i] (exact).
int dk_f32_from_bf16(const uint16_t *src, float *dst, int64_t n);

/// C [M, N] (ldc must be N) = alpha * op(A) . op(B) + beta * C on oneDNN's matmul primitive, with
/// bf16 inputs (bf16 = 1; DK_ERR_BACKEND on CPUs without AVX-512 BF16) or float32 ones (bf16 = 0).
int dk_matmul(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb, float beta, float *C, int64_t ldc, int bf16);
/// dk_matmul that keeps B's bf16 copy in a frozen-weights scope when keep_b (B a packed weight).
int dk_matmul_weights(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                      int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc, int bf16,
                      int keep_b);
/// bf16 x . W^T + bias on the matmul primitive (the bias in its epilogue): dk_linear's bf16 path.
int dk_matmul_linear(int64_t M, int64_t N, int64_t K, const void *x, int x_bf16, const void *w, int w_bf16,
                     int keep_w, const float *bias, void *y, int y_bf16);
/// dk_matmul in bf16 with B already bf16 bits (a weight stored as bf16), read in place when packed.
int dk_matmul_bf16_weights(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                           int64_t lda, const uint16_t *B, int64_t ldb, float beta, float *C, int64_t ldc);
/// dk_matmul in bf16 where A is bf16 bits (packed: lda = K, or M when transposed), read in place,
/// and B float32 or bf16 bits (b_bf16): a linear layer's two gradients on one bf16 copy of the
/// output gradient. DK_ERR_BACKEND without native bf16.
int dk_matmul_bf16_input(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const uint16_t *A,
                         int64_t lda, const void *B, int b_bf16, int64_t ldb, float beta, float *C, int64_t ldc);

// ---- a single-threaded bf16 GEMM for parallel regions (bf16_gemm.c; AVX-512 BF16 only) ----
/// 1 when this CPU (and build) runs the kernels below; call none of them otherwise.
int dk_bf16_gemm_available(void);
/// Columns of a packed right operand: n rounded up to its panels' width, 64.
int64_t dk_bf16_pairs_width(int64_t n);
/// dst [rows, dst_ld] bf16 = src [rows, cols] (leading dimension ld), zero-padded to dst_ld columns.
void dk_bf16_pack_rows(const float *src, int64_t rows, int64_t cols, int64_t ld, uint16_t *dst, int64_t dst_ld);
/// The right operand B [K, N] (trans = 0: src[k * ld + n]; trans = 1: src[n * ld + k]) packed in
/// pairs along K, in panels of 64 columns: out [dk_bf16_pairs_width(N) / 64][(K + 1) / 2][64][2]
/// bf16, zero-padded to the next multiple of 16 columns (the last panel's columns past that are
/// not written: no product reads them).
void dk_bf16_pack_pairs(const float *src, int64_t K, int64_t N, int64_t ld, int trans, uint16_t *out);
/// C [M, N] (ldc) = alpha * row_scale[r] (when non-NULL) * A [M, 2 KP] . B, plus C itself when
/// accumulate, in float32; A is bf16 rows of stride lda (even); Bp is packed by dk_bf16_pack_pairs
/// with bkp >= KP pairs and at least N columns (its first N columns and KP pairs are read).
void dk_bf16_gemm(int64_t M, int64_t N, int64_t KP, const uint16_t *A, int64_t lda, const uint16_t *Bp, int64_t bkp,
                  float alpha, const float *row_scale, float *C, int64_t ldc, int accumulate);
/// Groups of 16 lanes in a narrow right operand of K rows (dk_bf16_pack_pairs_narrow): its size is
/// 32 bf16 values a group.
int64_t dk_bf16_narrow_groups(int64_t K);
/// B [K, N] (src[k * ld + n]), N <= 8, packed for dk_bf16_gemm_narrow: lane 2n + h of group g holds
/// pair 2g + h of column n (zero past K and N), so no lane of a vector is idle.
void dk_bf16_pack_pairs_narrow(const float *src, int64_t K, int64_t N, int64_t ld, uint16_t *out);
/// dk_bf16_gemm for N <= 8 with B packed by dk_bf16_pack_pairs_narrow (its first KP pairs read).
void dk_bf16_gemm_narrow(int64_t M, int64_t N, int64_t KP, const uint16_t *A, int64_t lda, const uint16_t *Bn,
                         float alpha, const float *row_scale, float *C, int64_t ldc, int accumulate);

// ---- convolution (conv.c): oneDNN, groups = 1, NCHW activations, OIHW weights ----
// x [N, C, H, W], w [K, C, R, S], bias [K], y [N, K, OH, OW];
// OH = (H + 2 pad - R) / stride + 1 and likewise OW, else DK_ERR_SHAPE.
enum {
    DK_CONV_AUTO = -1,      // per-shape choice (default)
    DK_CONV_PLAIN = 0,      // oneDNN on plain NCHW/OIHW
    DK_CONV_BLOCKED = 1,    // oneDNN's preferred (blocked) layouts, reordering in and out
    DK_CONV_GEMM_1X1 = 2,   // 1x1/stride 1/pad 0 as sgemm per image (else falls back to blocked)
    DK_CONV_WINOGRAD = 3,   // forward only: oneDNN's Winograd F(4x4, 3x3) on blocked layouts
    DK_CONV_WINOGRAD_BF16 = 4,  // forward 3x3 only, bf16 precision on AVX-512 BF16: our F(2x2, 3x3)
                                // (else as DK_CONV_WINOGRAD)
    DK_CONV_GEMM_1X1_BF16 = 5,  // 1x1 forward and input gradient, bf16 precision on AVX-512 BF16:
                                // our bf16 GEMM per image (else as DK_CONV_BLOCKED)
    DK_CONV_GRAD_3X3_BF16 = 6,  // 3x3 stride-1 weight gradient, bf16 precision on AVX-512 BF16:
                                // our bf16 GEMM per tap (else as DK_CONV_BLOCKED)
};
/// Forces a convolution path for all later calls (benchmarking); DK_CONV_AUTO restores the default.
void dk_conv_set_mode(int mode);
/// Convolutions with bfloat16 inputs and float32 outputs and accumulation (1), or float32
/// throughout (0, the default); the gradients' kernels too when they agree with float32 on a small
/// probe convolution. DK_ERR_BACKEND when this CPU has no bf16 convolution; nothing changes then.
int dk_conv_set_bf16(int on);
int dk_conv2d_forward(const float *x, const float *w, const float *bias_or_null, float *y, int64_t N,
                      int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S, int64_t stride,
                      int64_t pad, int64_t OH, int64_t OW);
/// dk_conv2d_forward with weights stored as bf16 bits: bf16 kernels lay them out with no float32
/// step; float32 ones (Winograd, float32 precision) run on their float32 values.
int dk_conv2d_forward_bf16_weights(const float *x, const uint16_t *w, const float *bias_or_null, float *y,
                                   int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S,
                                   int64_t stride, int64_t pad, int64_t OH, int64_t OW);
/// dx [N, C, H, W] = gradient of the input given dy [N, K, OH, OW].
int dk_conv2d_backward_data(const float *dy, const float *w, float *dx, int64_t N, int64_t C, int64_t H,
                            int64_t W, int64_t K, int64_t R, int64_t S, int64_t stride, int64_t pad,
                            int64_t OH, int64_t OW);
/// dw [K, C, R, S] (overwritten) and db [K] (overwritten, optional) given x and dy.
int dk_conv2d_backward_weights(const float *x, const float *dy, float *dw, float *db_or_null, int64_t N,
                               int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S,
                               int64_t stride, int64_t pad, int64_t OH, int64_t OW);
/// Frees every cached oneDNN primitive and buffer.
void dk_conv_clear_cache(void);
/// Until the matching end, forward convolutions keep their weights' reordered copies and bf16
/// GEMMs their weight operands' converted ones (dk_gemm_weights), up to budget_bytes in all,
/// instead of converting them on every call. The caller promises that no weight tensor used
/// meanwhile changes or is freed. Calls nest; the outermost end frees the copies.
void dk_weights_frozen_begin(size_t budget_bytes);
void dk_weights_frozen_end(void);
/// Checks the bf16 weight conversion (bf16_weights.c) against oneDNN's reorder: converts
/// w [K, C, R, S] into the layout OhwI{block}o2i (block 16, 32 or 64) both ways and returns the
/// number of bytes that differ, or a negative DK_ERR.
int64_t dk_bf16_weights_mismatches(const float *w, int64_t K, int64_t C, int64_t R, int64_t S, int block);

// ---- normalisation (norm.c) ----
/// Group norm over x [N, C, HW] with G groups (C % G == 0); gamma/beta [C] (NULL: 1/0).
/// Saves mean/rstd [N * G]. fuse_silu != 0 gives y = silu(groupnorm(x)).
int dk_group_norm_forward(const float *x, const float *gamma, const float *beta, float *y, float *mean_out,
                          float *rstd_out, int64_t N, int64_t C, int64_t HW, int64_t G, float eps,
                          int fuse_silu);
/// dx [N, C, HW]; dgamma, dbeta [C] (overwritten; each may be NULL). beta is needed only when
/// fuse_silu (the pre-activation is recomputed from x). Deterministic for any thread count.
int dk_group_norm_backward(const float *dy, const float *x, const float *gamma, const float *beta,
                           const float *mean, const float *rstd, float *dx, float *dgamma, float *dbeta,
                           int64_t N, int64_t C, int64_t HW, int64_t G, int fuse_silu);
/// Layer norm over the last dimension: x [rows, D], gamma/beta [D] (NULL: 1/0); mean/rstd [rows]
/// (NULL: not saved).
int dk_layer_norm_forward(const float *x, const float *gamma, const float *beta, float *y, float *mean_out,
                          float *rstd_out, int64_t rows, int64_t D, float eps);
/// dx [rows, D]; dgamma, dbeta [D] (overwritten; each may be NULL). Deterministic for any thread count.
int dk_layer_norm_backward(const float *dy, const float *x, const float *gamma, const float *mean,
                           const float *rstd, float *dx, float *dgamma, float *dbeta, int64_t rows, int64_t D);

// ---- softmax over the last dimension (softmax.c): x, y [rows, cols] ----
int dk_softmax_forward(const float *x, float *y, int64_t rows, int64_t cols);
/// dx = y * (dy - sum(dy * y)) per row.
int dk_softmax_backward(const float *y, const float *dy, float *dx, int64_t rows, int64_t cols);

// ---- pointwise activations (activation.c) ----
enum {
    DK_ACT_SILU = 0,        // x * sigmoid(x)
    DK_ACT_GELU_ERF = 1,    // x * Phi(x)            (torch gelu, approximate="none")
    DK_ACT_GELU_TANH = 2,   // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    DK_ACT_QUICK_GELU = 3,  // x * sigmoid(1.702 x)  (CLIP)
};
int dk_activation_forward(int kind, const float *x, float *y, int64_t n);
/// dx = dy * f'(x).
int dk_activation_backward(int kind, const float *x, const float *dy, float *dx, int64_t n);
/// GEGLU: y [rows, inner] = h * gelu(g) (erf GELU) for each row x = [h | g] of x [rows, 2 * inner].
int dk_geglu_forward(const float *x, float *y, int64_t rows, int64_t inner);
/// dk_geglu_forward with y [rows, inner] as bf16 bits (rounded to nearest even).
int dk_geglu_forward_bf16(const float *x, uint16_t *y, int64_t rows, int64_t inner);
/// dx [rows, 2 * inner] (overwritten) given dy [rows, inner].
int dk_geglu_backward(const float *x, const float *dy, float *dx, int64_t rows, int64_t inner);
/// dk_geglu_forward_bf16 on x as bf16 bits (a linear layer's bf16 output, under bf16 training).
int dk_geglu_forward_bf16_input(const uint16_t *x, uint16_t *y, int64_t rows, int64_t inner);
/// dk_geglu_backward on x as bf16 bits, with dx [rows, 2 inner] rounded to bf16 bits: the gradient
/// of a bf16 linear output, which its layer's bf16 products read as it is.
int dk_geglu_backward_bf16(const uint16_t *x, const float *dy, uint16_t *dx, int64_t rows, int64_t inner);

// ---- scaled dot-product attention (attention.c) ----
/// Queries per chunk: scores exist only as [DK_ATTENTION_CHUNK, Lk] blocks per thread. 256
/// rows make the two GEMMs of a chunk large enough for sgemm: 117 against 96 GFLOP/s with 64
/// (16 heads of 4096 tokens x 40), for 4 MB of scores per thread at 4096 keys.
#define DK_ATTENTION_CHUNK 256
/// q [B, Lq, D], k [B, Lk, D], v [B, Lk, Dv] -> out [B, Lq, Dv]; causal masks key j > query i
/// (top-left aligned, as torch's is_causal). logsumexp [B, Lq] saved when non-NULL.
int dk_attention_forward(const float *q, const float *k, const float *v, float *out, int64_t B, int64_t Lq,
                         int64_t Lk, int64_t D, int64_t Dv, float scale, int causal, float *logsumexp_out);
/// The same forward on the heads' own layout: q [N, Lq, H * D], k [N, Lk, H * D], v [N, Lk, H * Dv]
/// and out [N, Lq, H * Dv], head h in columns [h * D, (h + 1) * D), read and written in place
/// (no per-head copies); logsumexp [N, H, Lq] saved when non-NULL.
int dk_attention_forward_heads(const float *q, const float *k, const float *v, float *out, int64_t N, int64_t H,
                               int64_t Lq, int64_t Lk, int64_t D, int64_t Dv, float scale, int causal,
                               float *logsumexp_out);
/// dq, dk, dv (overwritten) from the forward's out and logsumexp; probabilities are recomputed
/// chunk by chunk. Deterministic for any thread count.
int dk_attention_backward(const float *q, const float *k, const float *v, const float *out, const float *dout,
                          const float *lse, float *dq, float *dk, float *dv, int64_t B, int64_t Lq, int64_t Lk,
                          int64_t D, int64_t Dv, float scale, int causal);
/// The same backward on the heads' own layout (dk_attention_forward_heads): every tensor
/// [N, L, H * width], gradients included; logsumexp [N, H, Lq].
int dk_attention_backward_heads(const float *q, const float *k, const float *v, const float *out, const float *dout,
                                const float *lse, float *dq, float *dk, float *dv, int64_t N, int64_t H, int64_t Lq,
                                int64_t Lk, int64_t D, int64_t Dv, float scale, int causal);

// ---- elementwise arithmetic, sums and AdamW (elementwise.c) ----
enum { DK_OP_ADD = 0, DK_OP_SUB = 1, DK_OP_MUL = 2, DK_OP_DIV = 3, DK_OP_RSUB = 4, DK_OP_RDIV = 5 };  // R: b op a
enum {
    DK_BCAST_FULL = 0,     // b has the output's shape
    DK_BCAST_PATTERN = 1,  // element i reads b[(i / inner) % mid]
    DK_BCAST_SCALAR = 2,   // b[0] everywhere
};
/// out[i] = a[i] op b(i) over `total` elements (out may be a).
int dk_binary(int op, const float *a, const float *b, float *out, int64_t total, int b_mode, int64_t mid,
              int64_t inner);
/// out[i] = a[i] op s.
int dk_scalar(int op, const float *a, float s, float *out, int64_t n);
/// dst[m] = sum over o, k of src[(o * mid + m) * inner + k]: the inverse of a pattern broadcast.
/// The summation order is fixed (o outer, k inner), whatever the thread count.
int dk_sum_to_pattern(const float *src, float *dst, int64_t outer, int64_t mid, int64_t inner);
/// dst[j] = sum over rows r of src[r * cols + j] for src as bf16 bits, in float32 (a linear layer's
/// bias gradient from its output's bf16 gradient): blocks of 256 rows in row order, then the
/// blocks in order, whatever the thread count.
int dk_bf16_column_sums(const uint16_t *src, float *dst, int64_t rows, int64_t cols);
/// dst = src [rows, cols] rounded to bf16 bits, and sums[j] = its float32 column sums (in
/// dk_bf16_column_sums' order), in one pass: a linear layer's gradient for its bf16 products and
/// its bias gradient.
int dk_bf16_from_f32_column_sums(const float *src, uint16_t *dst, float *sums, int64_t rows, int64_t cols);
/// out [rows, cols] = row [cols] repeated (a bias laid out before an accumulating GEMM).
int dk_repeat_rows(const float *row, float *out, int64_t rows, int64_t cols);
/// One AdamW step (torch.optim.AdamW): g is scaled by grad_scale; bias_c1/c2 = 1 - beta^t.
int dk_adamw_update(float *w, const float *g, float *m, float *v, int64_t n, float grad_scale, float lr,
                    float beta1, float beta2, float eps, float weight_decay, float bias_c1, float bias_c2);

#endif
