// Internal: bf16 Winograd F(2x2, 3x3) convolutions (winograd_bf16.c), for conv.c.
#ifndef DK_WINOGRAD_BF16_H
#define DK_WINOGRAD_BF16_H
#include "CKernels.h"

/// Whether an output W wide wastes little on the padding tiles (tile columns run in sixteens).
int dk_winograd_bf16_pays(int64_t W);

/// y [N, K, H, W] = 3x3 convolution (stride 1, padding 1) of x [N, C, H, W] with w [K, C, 3, 3]
/// (float32, or bf16 bits when w_bf16) plus bias (or NULL), through bf16 operands with float32
/// accumulation. Needs AVX-512 BF16 (dk_bf16_gemm_available), else DK_ERR_BACKEND. Inside a
/// frozen-weights scope the transformed weights are kept.
int dk_winograd_bf16_forward(const float *x, const void *w, int w_bf16, const float *bias, float *y, int64_t N,
                             int64_t C, int64_t H, int64_t W, int64_t K);
#endif
