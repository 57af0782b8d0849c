// Internal: Winograd weight transform into oneDNN's layout, for conv.c.
#ifndef DK_WINOGRAD_WEIGHTS_H
#define DK_WINOGRAD_WEIGHTS_H
#include "CKernels.h"
#include <dnnl.h>

/// Whether `d` is the layout below (F(4x4, 3x3), wino_wei_OBaaIBOIio); oneDNN's reorder serves the others.
int dk_wino_transform_supported(const dnnl_wino_desc_t *d);

/// Transforms 3x3 weights w [K, C, 3, 3] into the Winograd F(4x4, 3x3) layout that `d` describes
/// (oneDNN's wino_wei_OBaaIBOIio), zero in the padding up to d->oc x d->ic. Returns 0, or -1
/// for a layout it does not know.
int dk_wino_transform_weights(const float *w, float *out, const dnnl_wino_desc_t *d, int64_t K, int64_t C);
#endif
