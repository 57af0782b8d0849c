// Internal: the state of one attention call, shared by the float32 path (attention.c) and the
// native bf16 one (attention_bf16.c).
#ifndef DK_ATTENTION_H
#define DK_ATTENTION_H
#include "CKernels.h"

#define QC DK_ATTENTION_CHUNK

typedef struct {
    const float *q, *k, *v, *out, *dout, *lse_in;
    const uint16_t *q16, *k16, *v16;  // native bf16 forward: q as rows, k and v packed in pairs (dk_bf16_gemm)
    int64_t Dp, Lkp, Vw;              // D rounded up to even; Lk and Dv rounded up to packed panels (64)
    float *o, *lse, *dq, *dk, *dv, *part;
    int64_t B, Lq, Lk, D, Dv, nch, groups;
    int64_t H;  // batch entry b is head b % H of item b / H, rows H * D (H * Dv) apart
    float scale;
    int causal, bf16;  // bf16: probabilities (and their gradients) enter the products rounded to bf16
    volatile int err;
} att_ctx;

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Batch entry b's first row in a [B / H, L, H * width] tensor (heads side by side in each row).
static inline int64_t entry_start(const att_ctx *c, int64_t b, int64_t L, int64_t width) {
    return (b / c->H * L * c->H + b % c->H) * width;
}

/// The native bf16 forward (dk_bf16_gemm_available() only): c->o and, when c->lse, the logsumexp.
int dk_attention_forward_native(att_ctx *c);
/// The native bf16 backward: c->dq, c->dk, c->dv from c->q, k, v, out, dout and lse_in.
int dk_attention_backward_native(att_ctx *c);
#endif
