// Internal: the weight gradient of 3x3 convolutions in bf16 (conv3x3_bf16_grad.c), for conv.c.
#ifndef DK_CONV3X3_BF16_H
#define DK_CONV3X3_BF16_H
#include "CKernels.h"

/// dw [K, C, 3, 3] and db [K] (or NULL) of a 3x3 convolution (stride 1, padding 1) of x
/// [N, C, H, W] whose output gradient is dy [N, K, H, W], through bf16 operands with float32
/// accumulation (db is summed in float32 from dy). Needs AVX-512 BF16 (dk_bf16_gemm_available),
/// else DK_ERR_BACKEND.
int dk_conv3x3_bf16_backward_weights(const float *x, const float *dy, float *dw, float *db, int64_t N, int64_t C,
                                     int64_t H, int64_t W, int64_t K);

#endif
