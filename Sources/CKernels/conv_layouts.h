// Internal: activations between Diffuse's plain NCHW float32 tensors and the channel-blocked
// layouts that oneDNN's direct convolutions read and write (nhwc, nChw16c), for conv.c.
#ifndef DK_CONV_LAYOUTS_H
#define DK_CONV_LAYOUTS_H
#include "CKernels.h"
#include <dnnl.h>

/// A channel-blocked layout of x [N, C, H*W]: value (n, c, p) at
/// n * image + (c / block) * plane + p * block + c % block, in float32 or bf16. Channels from C
/// up to Cp (a multiple of the block) are padding, written as zeros.
typedef struct {
    int64_t N, C, HW, block, Cp, image, plane;
    int bf16;
} dk_act_layout;

/// Whether `inner` is such a layout (nhwc: one block of all channels; or 16-channel blocks) of
/// the dense NCHW float32 tensor `user`, on a CPU these kernels run on; fills `out` if so.
int dk_act_layout_of(const dnnl_memory_desc_t *user, const dnnl_memory_desc_t *inner, dk_act_layout *out);

/// src NCHW float32 into dst in layout l.
void dk_act_to_blocked(const float *src, void *dst, const dk_act_layout *l);

/// src in layout l (float32) into dst NCHW float32.
void dk_act_from_blocked(const float *src, float *dst, const dk_act_layout *l);
#endif
