// Activations into and out of oneDNN's channel-blocked layouts, sixteen channels of an image at
// a time, transposed in registers 16 pixels by 16. About twice the rate of oneDNN's reorders for
// the bf16 layouts and nhwc (2 cores, batch 16: NCHW float32 to nhwc bf16, 192 channels at 16x16,
// 114 -> 55 us; nhwc float32 back, 64 channels, 28 -> 17 us; to 16-channel blocks in bf16,
// 36 -> 15 us), which were 7 ms of the bench U-Net's bf16 training step. Float32 16-channel
// blocks stay with oneDNN's reorders, as fast as these.
#include "conv_layouts.h"
#include "transpose16.h"
#include <immintrin.h>

#define LAYOUT_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

static __mmask16 lanes16(int64_t n) { return n >= 16 ? (__mmask16)0xffff : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

int dk_act_layout_of(const dnnl_memory_desc_t *user, const dnnl_memory_desc_t *inner, dk_act_layout *out) {
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512vl"))
        return 0;
    if (user->ndims != 4 || inner->ndims != 4 || user->data_type != dnnl_f32 || user->format_kind != dnnl_blocked ||
        inner->format_kind != dnnl_blocked || user->offset0 || inner->offset0)
        return 0;
    if (inner->data_type == dnnl_bf16 ? !__builtin_cpu_supports("avx512bf16") : inner->data_type != dnnl_f32) return 0;
    const int64_t N = user->dims[0], C = user->dims[1], H = user->dims[2], W = user->dims[3], HW = H * W;
    const dnnl_blocking_desc_t *u = &user->format_desc.blocking, *b = &inner->format_desc.blocking;
    for (int i = 0; i < 4; i++)
        if (inner->dims[i] != user->dims[i] || user->padded_dims[i] != user->dims[i] ||
            (i != 1 && inner->padded_dims[i] != inner->dims[i]))
            return 0;
    if (u->inner_nblks || u->strides[0] != C * HW || u->strides[1] != HW || u->strides[2] != W || u->strides[3] != 1)
        return 0;
    dk_act_layout l = {.N = N, .C = C, .HW = HW, .bf16 = inner->data_type == dnnl_bf16};
    if (b->inner_nblks == 0 && inner->padded_dims[1] == C && b->strides[1] == 1 && b->strides[3] == C &&
        b->strides[2] == W * C && b->strides[0] == HW * C) {
        l.block = l.Cp = C;
        l.image = HW * C;
    } else if (l.bf16 && b->inner_nblks == 1 && b->inner_idxs[0] == 1 && b->inner_blks[0] == 16) {
        // bf16 only: oneDNN's float32 reorders into and out of these blocks are as fast as ours
        l.block = 16;
        l.Cp = inner->padded_dims[1];
        l.plane = HW * 16;
        l.image = l.Cp * HW;
        if (l.Cp % 16 || b->strides[1] != l.plane || b->strides[2] != W * 16 || b->strides[3] != 16 ||
            b->strides[0] != l.image)
            return 0;
    } else {
        return 0;
    }
    *out = l;
    return 1;
}

// One item: image n, channels c0 .. c0 + 15, every pixel: sixteen rows read in order.
LAYOUT_TARGET static void to_blocked_body(void *p, int64_t begin, int64_t end) {
    const dk_act_layout *l = ((const void **)p)[0];
    const float *src = ((const void **)p)[1];
    void *dst = ((void **)p)[2];
    const int64_t blocks = l->Cp / 16 + (l->Cp % 16 != 0);
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / blocks, c0 = item % blocks * 16;
        const __mmask16 channels = lanes16(l->Cp - c0);
        const float *rows = src + (n * l->C + c0) * l->HW;
        const int64_t at = n * l->image + c0 / l->block * l->plane + c0 % l->block;
        for (int64_t p0 = 0; p0 < l->HW; p0 += 16) {
            const int64_t pixels = l->HW - p0 < 16 ? l->HW - p0 : 16;
            const __mmask16 valid = lanes16(pixels);
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = c0 + i < l->C ? _mm512_maskz_loadu_ps(valid, rows + i * l->HW + p0) : _mm512_setzero_ps();
            dk_transpose16(r);  // r[i]: pixel p0 + i's channels c0 .. c0 + 15
            for (int64_t i = 0; i < pixels; i++) {
                if (l->bf16)
                    _mm256_mask_storeu_epi16((uint16_t *)dst + at + (p0 + i) * l->block, channels,
                                             (__m256i)_mm512_cvtneps_pbh(r[i]));
                else
                    _mm512_mask_storeu_ps((float *)dst + at + (p0 + i) * l->block, channels, r[i]);
            }
        }
    }
}

LAYOUT_TARGET static void from_blocked_body(void *p, int64_t begin, int64_t end) {
    const dk_act_layout *l = ((const void **)p)[0];
    const float *src = ((const void **)p)[1];
    float *dst = ((void **)p)[2];
    const int64_t blocks = (l->C + 15) / 16;
    for (int64_t item = begin; item < end; item++) {
        const int64_t n = item / blocks, c0 = item % blocks * 16;
        const __mmask16 channels = lanes16(l->C - c0);
        const float *from = src + n * l->image + c0 / l->block * l->plane + c0 % l->block;
        float *rows = dst + (n * l->C + c0) * l->HW;
        for (int64_t p0 = 0; p0 < l->HW; p0 += 16) {
            const int64_t pixels = l->HW - p0 < 16 ? l->HW - p0 : 16;
            const __mmask16 valid = lanes16(pixels);
            __m512 r[16];
            for (int64_t i = 0; i < 16; i++)
                r[i] = i < pixels ? _mm512_maskz_loadu_ps(channels, from + (p0 + i) * l->block) : _mm512_setzero_ps();
            dk_transpose16(r);  // r[j]: channel c0 + j's pixels p0 .. p0 + 15
            for (int64_t j = 0; j < 16 && c0 + j < l->C; j++) _mm512_mask_storeu_ps(rows + j * l->HW + p0, valid, r[j]);
        }
    }
}

// Items of 16 channels of one image, at least 64K values a chunk.
static int64_t min_items(const dk_act_layout *l) { return 4096 / (l->HW > 0 ? l->HW : 1) + 1; }

void dk_act_to_blocked(const float *src, void *dst, const dk_act_layout *l) {
    const void *ctx[3] = {l, src, dst};
    dk_parallel_for(l->N * ((l->Cp + 15) / 16), min_items(l), (void *)ctx, to_blocked_body);
}

void dk_act_from_blocked(const float *src, float *dst, const dk_act_layout *l) {
    const void *ctx[3] = {l, src, dst};
    dk_parallel_for(l->N * ((l->C + 15) / 16), min_items(l), (void *)ctx, from_blocked_body);
}
