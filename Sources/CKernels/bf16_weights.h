// Internal: float32 OIHW weights into oneDNN's blocked bf16 weight layouts, for conv.c.
#ifndef DK_BF16_WEIGHTS_H
#define DK_BF16_WEIGHTS_H
#include "CKernels.h"
#include <dnnl.h>

/// Whether `md` is a layout dk_bf16_weights writes: 4-d bf16 weights blocked as A..B with inner
/// blocks (X output channels, 2 input channels), X <= 64 (AcdB16a2b, AcdB32a2b, AcdB64a2b, ...).
int dk_bf16_weights_supported(const dnnl_memory_desc_t *md);

/// Converts w [K, C, R, S] (float32) into `out` in the layout `md` describes, zero in its padding.
/// Returns 0, or -1 for a layout it does not know.
int dk_bf16_weights(const float *w, uint16_t *out, const dnnl_memory_desc_t *md);

/// The same from weights stored as bf16 bits: a shuffle, no rounding.
int dk_bf16_weights_from_bf16(const uint16_t *w, uint16_t *out, const dnnl_memory_desc_t *md);
#endif
