// Internal: bf16 1x1 convolutions on the bf16 GEMM kernel (conv1x1_bf16.c), for conv.c.
#ifndef DK_CONV1X1_BF16_H
#define DK_CONV1X1_BF16_H
#include "CKernels.h"

/// y [N, K, HW] = w [K, C] . x [N, C, HW] per image, plus bias (or NULL): a 1x1 convolution
/// (stride 1, no padding) through bf16 operands with float32 accumulation. w is float32, or bf16
/// bits when w_bf16. Needs AVX-512 BF16 (dk_bf16_gemm_available), else DK_ERR_BACKEND.
int dk_conv1x1_bf16_forward(const float *x, const void *w, int w_bf16, const float *bias, float *y, int64_t N,
                            int64_t C, int64_t HW, int64_t K);

/// dx [N, C, HW] = w^T . dy [N, K, HW] per image: the same convolution's input gradient.
int dk_conv1x1_bf16_backward_data(const float *dy, const void *w, int w_bf16, float *dx, int64_t N, int64_t C,
                                  int64_t HW, int64_t K);
#endif
