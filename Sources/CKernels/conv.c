// 2-D convolution (groups = 1) through oneDNN, with primitives cached per shape.
#include "CKernels.h"
#include "bf16_weights.h"
#include "conv1x1_bf16.h"
#include "conv3x3_bf16.h"
#include "conv_layouts.h"
#include "frozen.h"
#include "scratch.h"
#include "winograd_bf16.h"
#include "winograd_weights.h"
#include <dnnl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

// One engine and one stream for the process; oneDNN runs on libgomp's pool.
static dnnl_engine_t g_engine;
static dnnl_stream_t g_stream;
// Primitives hand their scratchpad to us (user mode), so it lives in the shared scratch below.
static dnnl_primitive_attr_t g_attr;
static int g_init_status = -1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
// Serialises cache lookups and executions: cached memory objects get new handles per call.
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_forced_mode = DK_CONV_AUTO;

static void init_engine(void) {
    if (dnnl_engine_create(&g_engine, dnnl_cpu, 0) != dnnl_success) { g_init_status = DK_ERR_BACKEND; return; }
    if (dnnl_stream_create(&g_stream, g_engine, dnnl_stream_default_flags) != dnnl_success) {
        g_init_status = DK_ERR_BACKEND; return;
    }
    if (dnnl_primitive_attr_create(&g_attr) != dnnl_success ||
        dnnl_primitive_attr_set_scratchpad_mode(g_attr, dnnl_scratchpad_mode_user) != dnnl_success) {
        g_init_status = DK_ERR_BACKEND; return;
    }
    g_init_status = 0;
}

void dk_conv_set_mode(int mode) { g_forced_mode = mode; }

enum { KIND_FWD = 0, KIND_BWD_DATA = 1, KIND_BWD_WEIGHTS = 2 };

typedef struct {
    int64_t kind, mode, N, C, H, W, K, R, S, stride, pad, OH, OW, has_bias, bf16;
    // A sub-problem of a larger convolution (a band of rows, a slice of output channels):
    // its own top and bottom padding, and the planes and channel count of the whole tensors,
    // which set the strides of src and dst. For a whole convolution: pad, H*W, OH*OW and K.
    int64_t pad_top, pad_bottom, src_plane, dst_plane, dst_K;
    // Emulated bf16 (float32 kernels on operands rounded to bf16): its weights are a fresh
    // rounded copy on every call, so they must never be kept as frozen weights.
    int64_t emulated;
} conv_key;

// bfloat16 inputs (activations, weights, incoming gradients) with float32 results and
// accumulation, as torch.autocast does on CPU: twice the float32 rate with AVX-512 BF16.
static int g_bf16;
// Whether the gradients' kernels take bf16 as well: set by the probe in dk_conv_set_bf16,
// which checks them against float32 once, so a wrong bf16 gradient kernel costs speed, not
// a training run.
static int g_bf16_gradients;

// One execution argument: the user's plain buffer and, when oneDNN wants another
// layout, an internal buffer plus the reorder between them.
typedef struct {
    int arg, is_output;
    dnnl_memory_t user, inner;   // inner == user when no reorder is needed
    // or our own conversion: for Winograd weights (wino != NULL) or blocked bf16 weights (bf16_weights)
    dnnl_primitive_t reorder;
    const dnnl_wino_desc_t *wino;
    const dnnl_memory_desc_t *bf16_weights;
    dk_act_layout layout;        // our own activation layout change when layout.N > 0
    int64_t K, C;
    size_t scratch_offset;       // where inner's buffer lies in the shared scratch
} conv_slot;

typedef struct conv_entry {
    conv_key key;
    dnnl_primitive_t prim;
    int nslots;
    conv_slot slots[4];
    dnnl_memory_t scratchpad;    // oneDNN's own working memory, or NULL when it needs none
    size_t scratchpad_offset;
    size_t scratch_bytes;        // this entry's inner buffers and scratchpad, back to back
    struct conv_entry *next;
} conv_entry;

// Inner (blocked-layout) buffers and oneDNN's scratchpads live in one scratch area shared by
// every cached primitive, grown to the largest need: executions are serialised, and
// per-entry buffers would keep a copy of every distinct activation shape alive (hundreds of
// MB at 512x512), as a separate scratchpad would keep the largest Winograd transform.
static dk_scratch g_scratch;

#define NBUCKETS 64
static conv_entry *g_buckets[NBUCKETS];

static uint64_t key_hash(const conv_key *k) {
    const int64_t *v = (const int64_t *)k;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof(conv_key) / sizeof(int64_t); i++) {
        h ^= (uint64_t)v[i];
        h *= 1099511628211ull;
    }
    return h;
}

static int is_1x1(const conv_key *k) {
    return k->R == 1 && k->S == 1 && k->stride == 1 && k->pad == 0;
}

// Which path a shape takes when no mode is forced. Measured with diffuse-bench kernels
// (2 shared Zen 4 cores, 1 and 2 threads): blocked layouts + reorders win for 3x3 with
// C, K >= 16 (up to 1.5x at 8x8 and 4x4); weight gradients of very wide layers lose to
// plain layouts because the blocked-to-OIHW reorder of the big weight tensor dominates
// (1280->1280 at 16x16: 107 vs 87 GFLOP/s on one thread). For 1x1 convolutions oneDNN's
// plain path is a GEMM already; our per-image sgemm wins for the weight gradient, and in bf16
// our bf16 GEMM kernel for the forward (conv1x1_bf16.c; SD 1.5's projections at batch 2: 350,
// 400, 427 against 266, 312, 417 GFLOP/s at 64x64, 32x32, 16x16; the bench U-Net's 64 and 128
// channels at batch 16: 333 and 392 against 249 and 293).
//
// Winograd F(4x4, 3x3) does 4x fewer multiplications than direct. Its weights are transformed
// on every call (by winograd_weights.c: oneDNN's own transform cost 2.8 s of the SD 1.5 U-Net's
// forward) and large problems run in slices and bands (winograd_tiled), so it pays from 2048
// output pixels with 128 channels and up: the SD 1.5 U-Net's 64x64 and 32x32 levels ran 3x
// faster than direct (forward 10.5 -> 8.5 s), its VAE decoder 13.8 -> 8.3 s. Below that size the
// per-call weight transform outweighs the saving.
//
// oneDNN has no bf16 Winograd, and with AVX-512 BF16 (twice float32's rate, not AMX's) float32
// Winograd beat oneDNN's bf16 direct on those layers: 557-613 against 378-413 GFLOP/s at 320
// channels and 64x64, about even at 640 and 32x32 (Zen 4, session 13). So in bf16 they run our
// own bf16 F(2x2, 3x3) (winograd_bf16.c) where the CPU has AVX-512 BF16, and bf16 direct with AMX.
// Its weight transform costs as little as oneDNN's bf16 weight layout, so it also takes the wide
// layers at 16x16 and 8x8 (SD 1.5's 1280 channels at batch 2: 500-530 against 350 GFLOP/s at
// 16x16); with 64-256 channels at batch 16 (the bench U-Net) it only breaks even with direct.
//
// Few channels on one side (a model's conv_in and conv_out). With under 16 output channels the
// blocked layouts win every pass (2 cores, ms, plain against blocked): conv_out 64 -> 4 at 16x16,
// batch 16, forward 0.80 against 0.39 (bf16 0.85 against 0.22), input gradient 1.07 against 0.43
// (0.91 against 0.19); the VAE decoder's 128 -> 3 at 512x512, forward 89 against 76 (bf16 109
// against 48). With under 16 input channels plain layouts win, but for the bf16 weight gradient:
// conv_in 4 -> 64 at 16x16, batch 16, 0.58 against 0.10 (float32 0.26 against 0.35).
//
// The 3x3 weight gradient in bf16 runs on our bf16 GEMM kernel too (conv3x3_bf16_grad.c): as fast
// as oneDNN's jit_bf16 kernel in a quiet training step, but its threads wait in libgomp's short
// spin, where oneDNN's spin at a barrier: beside another busy process a bench U-Net bf16 step
// took 1.07-1.08 s with it against 4.03-4.12 s.
#define WINOGRAD_MIN_PIXELS 2048         // N x OH x OW
#define WINOGRAD_MAX_ELEMENTS (1 << 24)  // N x OH x OW x max(C, K) of one band
#define WINOGRAD_BF16_MIN_CHANNELS 512   // bf16 Winograd also takes layers this wide (C and K)
#define WINOGRAD_BF16_MIN_PIXELS 128     // from this many output pixels
static int winograd_bf16_runs(const conv_key *k) {
    return k->kind == KIND_FWD && k->R == 3 && k->S == 3 && k->stride == 1 && k->pad == 1 && k->bf16 &&
           !k->emulated && dk_bf16_gemm_available();
}

static int gemm_1x1_bf16_runs(const conv_key *k) {
    return k->kind != KIND_BWD_WEIGHTS && is_1x1(k) && k->bf16 && !k->emulated && dk_bf16_gemm_available();
}

static int grad_3x3_bf16_runs(const conv_key *k) {
    return k->kind == KIND_BWD_WEIGHTS && k->R == 3 && k->S == 3 && k->stride == 1 && k->pad == 1 && k->bf16 &&
           !k->emulated && dk_bf16_gemm_available();
}

static int auto_mode(const conv_key *k) {
    int64_t pixels = k->N * k->OH * k->OW;
    int bf16_direct_wins = k->bf16 && dnnl_get_effective_cpu_isa() >= dnnl_cpu_isa_avx512_core_amx;
    int winograd = k->kind == KIND_FWD && !bf16_direct_wins && k->R == 3 && k->S == 3 && k->stride == 1 && k->pad == 1;
    int large = k->C >= 128 && k->K >= 128 && pixels >= WINOGRAD_MIN_PIXELS;
    int wide = k->C >= WINOGRAD_BF16_MIN_CHANNELS && k->K >= WINOGRAD_BF16_MIN_CHANNELS && pixels >= WINOGRAD_BF16_MIN_PIXELS;
    if (winograd && winograd_bf16_runs(k) && dk_winograd_bf16_pays(k->OW) && (large || wide)) return DK_CONV_WINOGRAD_BF16;
    if (winograd && large) return DK_CONV_WINOGRAD;
    if (!bf16_direct_wins && gemm_1x1_bf16_runs(k)) return DK_CONV_GEMM_1X1_BF16;
    if (!bf16_direct_wins && grad_3x3_bf16_runs(k) && k->C >= 16 && k->K >= 16) return DK_CONV_GRAD_3X3_BF16;
    if (is_1x1(k)) return k->kind == KIND_BWD_WEIGHTS ? DK_CONV_GEMM_1X1 : DK_CONV_PLAIN;
    if (k->C < 16) return k->K >= 16 && k->kind == KIND_BWD_WEIGHTS && k->bf16 ? DK_CONV_BLOCKED : DK_CONV_PLAIN;
    if (k->kind == KIND_BWD_WEIGHTS && k->C * k->K >= 640 * 640) return DK_CONV_PLAIN;
    return DK_CONV_BLOCKED;
}

static void destroy_entry(conv_entry *e) {
    for (int i = 0; i < e->nslots; i++) {
        conv_slot *s = &e->slots[i];
        if (s->reorder) dnnl_primitive_destroy(s->reorder);
        if (s->inner && s->inner != s->user) dnnl_memory_destroy(s->inner);
        if (s->user) dnnl_memory_destroy(s->user);
    }
    if (e->scratchpad) dnnl_memory_destroy(e->scratchpad);
    if (e->prim) dnnl_primitive_destroy(e->prim);
    free(e);
}

#define CHECK(x) do { if ((x) != dnnl_success) { rc = DK_ERR_BACKEND; goto fail; } } while (0)

static int add_slot(conv_entry *e, const_dnnl_primitive_desc_t pd, int arg, int is_output,
                    const dnnl_memory_desc_t *user_md) {
    int rc = 0;
    conv_slot *s = &e->slots[e->nslots++];
    memset(s, 0, sizeof(*s));
    s->arg = arg;
    s->is_output = is_output;
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
    if (!md) return DK_ERR_BACKEND;
    CHECK(dnnl_memory_create(&s->user, user_md, g_engine, DNNL_MEMORY_NONE));
    if (dnnl_memory_desc_equal(md, user_md)) {
        s->inner = s->user;
        return 0;
    }
    CHECK(dnnl_memory_create(&s->inner, md, g_engine, DNNL_MEMORY_NONE));
    s->scratch_offset = e->scratch_bytes;
    e->scratch_bytes += (dnnl_memory_desc_get_size(md) + 63) & ~(size_t)63;
    if (md->format_kind == dnnl_format_kind_wino && !is_output && dk_wino_transform_supported(&md->format_desc.wino_desc)) {
        const dnnl_memory_desc_t *inner_md = NULL;
        CHECK(dnnl_memory_get_memory_desc(s->inner, &inner_md));
        s->wino = &inner_md->format_desc.wino_desc;
        s->K = user_md->dims[0];
        s->C = user_md->dims[1];
        return 0;
    }
    if (arg == DNNL_ARG_WEIGHTS && !is_output && dk_bf16_weights_supported(md)) {
        CHECK(dnnl_memory_get_memory_desc(s->inner, &s->bf16_weights));
        return 0;
    }
    if (arg != DNNL_ARG_WEIGHTS && arg != DNNL_ARG_DIFF_WEIGHTS && dk_act_layout_of(user_md, md, &s->layout) &&
        !(is_output && s->layout.bf16))
        return 0;
    s->layout.N = 0;
    dnnl_primitive_desc_t rpd = NULL;
    if (is_output) CHECK(dnnl_reorder_primitive_desc_create(&rpd, md, g_engine, user_md, g_engine, NULL));
    else CHECK(dnnl_reorder_primitive_desc_create(&rpd, user_md, g_engine, md, g_engine, NULL));
    dnnl_status_t st = dnnl_primitive_create(&s->reorder, rpd);
    dnnl_primitive_desc_destroy(rpd);
    CHECK(st);
    return 0;
fail:
    return rc;
}

static conv_entry *create_entry(const conv_key *k, int *err) {
    int rc = 0;
    conv_entry *e = calloc(1, sizeof(conv_entry));
    if (!e) { *err = DK_ERR_ALLOC; return NULL; }
    e->key = *k;
    dnnl_primitive_desc_t fwd_pd = NULL, pd = NULL;
    dnnl_dims_t sd = {k->N, k->C, k->H, k->W}, wd = {k->K, k->C, k->R, k->S};
    dnnl_dims_t dd = {k->N, k->K, k->OH, k->OW}, bd = {k->K};
    dnnl_dims_t strides = {k->stride, k->stride};
    dnnl_dims_t pads_l = {k->pad_top, k->pad}, pads_r = {k->pad_bottom, k->pad};
    dnnl_dims_t src_str = {k->C * k->src_plane, k->src_plane, k->W, 1};
    dnnl_dims_t dst_str = {k->dst_K * k->dst_plane, k->dst_plane, k->OW, 1};
    dnnl_memory_desc_t src_u, w_u, dst_u, b_u, src_a, w_a, dst_a;
    CHECK(dnnl_memory_desc_init_by_strides(&src_u, 4, sd, dnnl_f32, src_str));
    CHECK(dnnl_memory_desc_init_by_tag(&w_u, 4, wd, dnnl_f32, dnnl_oihw));
    CHECK(dnnl_memory_desc_init_by_strides(&dst_u, 4, dd, dnnl_f32, dst_str));
    CHECK(dnnl_memory_desc_init_by_tag(&b_u, 1, bd, dnnl_f32, dnnl_x));
    int blocked = k->mode == DK_CONV_BLOCKED || k->mode == DK_CONV_WINOGRAD;
    dnnl_format_tag_t act = blocked ? dnnl_format_tag_any : dnnl_nchw;
    dnnl_format_tag_t wt = blocked ? dnnl_format_tag_any : dnnl_oihw;
    dnnl_alg_kind_t alg = k->mode == DK_CONV_WINOGRAD ? dnnl_convolution_winograd : dnnl_convolution_direct;
    // In bf16 each kernel reads bf16 operands and writes float32 (accumulating in float32):
    // the forward reads input and weights, the data gradient the output gradient and weights,
    // the weight gradient the input and output gradient. The backward kernels' forward hint
    // is all bf16, a combination every bf16 CPU has.
    dnnl_data_type_t bf = k->bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_data_type_t src_t = k->kind == KIND_BWD_DATA ? dnnl_f32 : bf;
    dnnl_data_type_t w_t = k->kind == KIND_BWD_WEIGHTS ? dnnl_f32 : bf;
    dnnl_data_type_t dst_t = k->kind == KIND_FWD ? dnnl_f32 : bf;
    CHECK(dnnl_memory_desc_init_by_tag(&src_a, 4, sd, src_t, act));
    CHECK(dnnl_memory_desc_init_by_tag(&w_a, 4, wd, w_t, wt));
    CHECK(dnnl_memory_desc_init_by_tag(&dst_a, 4, dd, dst_t, act));
    int bias = (int)k->has_bias;

    dnnl_convolution_desc_t fd;
    dnnl_memory_desc_t src_h = src_a, w_h = w_a, dst_h = dst_a;
    if (k->kind != KIND_FWD) {
        CHECK(dnnl_memory_desc_init_by_tag(&src_h, 4, sd, bf, act));
        CHECK(dnnl_memory_desc_init_by_tag(&w_h, 4, wd, bf, wt));
        CHECK(dnnl_memory_desc_init_by_tag(&dst_h, 4, dd, bf, act));
    }
    CHECK(dnnl_convolution_forward_desc_init(
        &fd, k->kind == KIND_FWD ? dnnl_forward_inference : dnnl_forward_training,
        alg, &src_h, &w_h, bias ? &b_u : NULL, &dst_h, strides, pads_l, pads_r));
    CHECK(dnnl_primitive_desc_create(&fwd_pd, &fd, g_attr, g_engine, NULL));
    if (k->kind == KIND_FWD) {
        pd = fwd_pd;
        fwd_pd = NULL;
        if ((rc = add_slot(e, pd, DNNL_ARG_SRC, 0, &src_u))) goto fail;
        if ((rc = add_slot(e, pd, DNNL_ARG_WEIGHTS, 0, &w_u))) goto fail;
        if (bias && (rc = add_slot(e, pd, DNNL_ARG_BIAS, 0, &b_u))) goto fail;
        if ((rc = add_slot(e, pd, DNNL_ARG_DST, 1, &dst_u))) goto fail;
    } else if (k->kind == KIND_BWD_DATA) {
        dnnl_convolution_desc_t bd_;
        CHECK(dnnl_convolution_backward_data_desc_init(&bd_, dnnl_convolution_direct, &src_a, &w_a,
                                                       &dst_a, strides, pads_l, pads_r));
        CHECK(dnnl_primitive_desc_create(&pd, &bd_, g_attr, g_engine, fwd_pd));
        if ((rc = add_slot(e, pd, DNNL_ARG_DIFF_DST, 0, &dst_u))) goto fail;
        if ((rc = add_slot(e, pd, DNNL_ARG_WEIGHTS, 0, &w_u))) goto fail;
        if ((rc = add_slot(e, pd, DNNL_ARG_DIFF_SRC, 1, &src_u))) goto fail;
    } else {
        dnnl_convolution_desc_t wd_;
        CHECK(dnnl_convolution_backward_weights_desc_init(&wd_, dnnl_convolution_direct, &src_a, &w_a,
                                                          bias ? &b_u : NULL, &dst_a, strides, pads_l, pads_r));
        CHECK(dnnl_primitive_desc_create(&pd, &wd_, g_attr, g_engine, fwd_pd));
        if ((rc = add_slot(e, pd, DNNL_ARG_SRC, 0, &src_u))) goto fail;
        if ((rc = add_slot(e, pd, DNNL_ARG_DIFF_DST, 0, &dst_u))) goto fail;
        if ((rc = add_slot(e, pd, DNNL_ARG_DIFF_WEIGHTS, 1, &w_u))) goto fail;
        if (bias && (rc = add_slot(e, pd, DNNL_ARG_DIFF_BIAS, 1, &b_u))) goto fail;
    }
    CHECK(dnnl_primitive_create(&e->prim, pd));
    const dnnl_memory_desc_t *pad_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t pad_bytes = pad_md ? dnnl_memory_desc_get_size(pad_md) : 0;
    if (pad_bytes) {
        CHECK(dnnl_memory_create(&e->scratchpad, pad_md, g_engine, DNNL_MEMORY_NONE));
        e->scratchpad_offset = e->scratch_bytes;
        e->scratch_bytes += (pad_bytes + 63) & ~(size_t)63;
    }
    dnnl_primitive_desc_destroy(pd);
    if (fwd_pd) dnnl_primitive_desc_destroy(fwd_pd);
    return e;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (fwd_pd) dnnl_primitive_desc_destroy(fwd_pd);
    destroy_entry(e);
    *err = rc ? rc : DK_ERR_BACKEND;
    return NULL;
}

static conv_entry *lookup(const conv_key *k, int *err) {
    uint64_t b = key_hash(k) % NBUCKETS;
    for (conv_entry *e = g_buckets[b]; e; e = e->next)
        if (memcmp(&e->key, k, sizeof(conv_key)) == 0) return e;
    conv_entry *e = create_entry(k, err);
    if (!e && k->mode == DK_CONV_WINOGRAD) {  // this CPU has no Winograd kernel: direct, under the same key
        conv_key direct = *k;
        direct.mode = DK_CONV_BLOCKED;
        if ((e = create_entry(&direct, err))) e->key = *k;
    }
    if (!e && k->bf16 && k->kind != KIND_FWD) {  // a bf16 gradient oneDNN refuses: float32, under the same key
        conv_key f32 = *k;
        f32.bf16 = 0;
        if ((e = create_entry(&f32, err))) e->key = *k;
    }
    if (!e) return NULL;
    e->next = g_buckets[b];
    g_buckets[b] = e;
    return e;
}

// The kept copy of slot s's weights for entry e (frozen.c), or NULL: the caller then uses the
// shared scratch. *fresh: the buffer must be filled.
static void *frozen_weights(const conv_entry *e, const conv_slot *s, const void *weights, int *fresh) {
    *fresh = 1;
    if (s->arg != DNNL_ARG_WEIGHTS || e->key.kind != KIND_FWD || e->key.emulated || s->wino) return NULL;
    const dnnl_memory_desc_t *md = NULL;
    if (dnnl_memory_get_memory_desc(s->inner, &md) != dnnl_success) return NULL;
    return dk_frozen_copy(e, weights, dnnl_memory_desc_get_size(md), fresh);
}

// The float32 values of slot s's weights stored as bf16 bits (for kernels and conversions that
// read float32), in a buffer the caller frees.
static float *float32_weights(const conv_slot *s, const uint16_t *w) {
    const dnnl_memory_desc_t *md = NULL;
    if (dnnl_memory_get_memory_desc(s->user, &md) != dnnl_success) return NULL;
    int64_t n = (int64_t)(dnnl_memory_desc_get_size(md) / sizeof(float));
    float *out = dk_alloc_floats(n > 0 ? n : 1);
    if (out) dk_f32_from_bf16(w, out, n);
    return out;
}

// Runs input reorders, the convolution, then output reorders. ptrs[i] is slot i's user buffer;
// weights_bf16: the weights' buffer holds bf16 bits (weights stored in bf16), still the key of
// their kept copy.
static int execute(conv_entry *e, void *const *ptrs, int weights_bf16) {
    dnnl_exec_arg_t args[5];
    float *expanded = NULL;  // float32 values of bf16 weights, where a float32 path needs them
    int rc = 0;
    if (dk_scratch_reserve(&g_scratch, e->scratch_bytes)) return DK_ERR_ALLOC;
    for (int i = 0; i < e->nslots; i++) {
        conv_slot *s = &e->slots[i];
        const int bf16_source = weights_bf16 && s->arg == DNNL_ARG_WEIGHTS && !s->is_output;
        void *user = ptrs[i];
        if (bf16_source && s->inner == s->user) {  // the kernel reads float32 OIHW weights itself
            if (!(expanded = float32_weights(s, ptrs[i]))) { rc = DK_ERR_ALLOC; goto done; }
            user = expanded;
        }
        if (dnnl_memory_set_data_handle(s->user, user) != dnnl_success) { rc = DK_ERR_BACKEND; goto done; }
        args[i].arg = s->arg;
        args[i].memory = s->inner;
        if (s->inner == s->user) continue;
        int fresh = 1;
        void *inner = s->is_output ? NULL : frozen_weights(e, s, ptrs[i], &fresh);
        if (!inner) inner = (char *)g_scratch.p + s->scratch_offset;
        if (dnnl_memory_set_data_handle(s->inner, inner) != dnnl_success) { rc = DK_ERR_BACKEND; goto done; }
        if (!fresh) continue;
        if (bf16_source && s->bf16_weights) {
            if (dk_bf16_weights_from_bf16(ptrs[i], inner, s->bf16_weights)) { rc = DK_ERR_BACKEND; goto done; }
            continue;
        }
        if (bf16_source) {  // Winograd's transform and oneDNN's reorder read float32
            if (!(expanded = float32_weights(s, ptrs[i]))) { rc = DK_ERR_ALLOC; goto done; }
            user = expanded;
            if (dnnl_memory_set_data_handle(s->user, user) != dnnl_success) { rc = DK_ERR_BACKEND; goto done; }
        }
        if (s->wino) {
            if (dk_wino_transform_weights(user, inner, s->wino, s->K, s->C)) { rc = DK_ERR_BACKEND; goto done; }
        } else if (s->bf16_weights) {
            if (dk_bf16_weights(user, inner, s->bf16_weights)) { rc = DK_ERR_BACKEND; goto done; }
        } else if (s->layout.N && !s->is_output) {
            dk_act_to_blocked(user, inner, &s->layout);
        } else if (s->reorder && !s->is_output) {
            dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, s->user}, {DNNL_ARG_TO, s->inner}};
            if (dnnl_primitive_execute(s->reorder, g_stream, 2, ra) != dnnl_success) { rc = DK_ERR_BACKEND; goto done; }
        }
    }
    int nargs = e->nslots;
    if (e->scratchpad) {
        if (dnnl_memory_set_data_handle(e->scratchpad, (char *)g_scratch.p + e->scratchpad_offset) != dnnl_success) {
            rc = DK_ERR_BACKEND;
            goto done;
        }
        args[nargs].arg = DNNL_ARG_SCRATCHPAD;
        args[nargs++].memory = e->scratchpad;
    }
    if (dnnl_primitive_execute(e->prim, g_stream, nargs, args) != dnnl_success) { rc = DK_ERR_BACKEND; goto done; }
    for (int i = 0; i < e->nslots; i++) {
        conv_slot *s = &e->slots[i];
        if (s->layout.N && s->is_output) {
            // oneDNN's stream runs in order on the calling thread's pool: the convolution is done
            if (dnnl_stream_wait(g_stream) != dnnl_success) { rc = DK_ERR_BACKEND; goto done; }
            void *inner = NULL, *user = NULL;
            if (dnnl_memory_get_data_handle(s->inner, &inner) != dnnl_success ||
                dnnl_memory_get_data_handle(s->user, &user) != dnnl_success) { rc = DK_ERR_BACKEND; goto done; }
            dk_act_from_blocked(inner, user, &s->layout);
        } else if (s->reorder && s->is_output) {
            dnnl_exec_arg_t ra[2] = {{DNNL_ARG_FROM, s->inner}, {DNNL_ARG_TO, s->user}};
            if (dnnl_primitive_execute(s->reorder, g_stream, 2, ra) != dnnl_success) { rc = DK_ERR_BACKEND; goto done; }
        }
    }
    if (dnnl_stream_wait(g_stream) != dnnl_success) rc = DK_ERR_BACKEND;
done:
    dk_free(expanded);
    return rc;
}

static int check_shape(int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S,
                       int64_t stride, int64_t pad, int64_t OH, int64_t OW) {
    if (N <= 0 || C <= 0 || H <= 0 || W <= 0 || K <= 0 || R <= 0 || S <= 0) return DK_ERR_SHAPE;
    if (stride <= 0 || pad < 0 || H + 2 * pad < R || W + 2 * pad < S) return DK_ERR_SHAPE;
    if (OH != (H + 2 * pad - R) / stride + 1 || OW != (W + 2 * pad - S) / stride + 1) return DK_ERR_SHAPE;
    return 0;
}

// ---- 1x1, stride 1, no padding: one sgemm per image on plain layouts ----

static int gemm_1x1(int kind, const float *x, const float *w, float *y, float *db, const float *bias,
                    int64_t N, int64_t C, int64_t K, int64_t HW) {
    if (kind == KIND_FWD) {
        for (int64_t n = 0; n < N; n++) {  // y[n] [K, HW] = w [K, C] . x[n] [C, HW]
            float *yn = y + n * K * HW;
            if (bias)
                for (int64_t k = 0; k < K; k++)
                    for (int64_t i = 0; i < HW; i++) yn[k * HW + i] = bias[k];
            dnnl_sgemm('N', 'N', K, HW, C, 1.0f, w, C, x + n * C * HW, HW, bias ? 1.0f : 0.0f, yn, HW);
        }
    } else if (kind == KIND_BWD_DATA) {
        for (int64_t n = 0; n < N; n++)  // dx[n] [C, HW] = w^T [C, K] . dy[n] [K, HW]
            dnnl_sgemm('T', 'N', C, HW, K, 1.0f, w, C, y + n * K * HW, HW, 0.0f, (float *)x + n * C * HW, HW);
    } else {
        // dw [K, C] = sum_n dy[n] [K, HW] . x[n]^T [HW, C]; images added in order.
        float *dw = (float *)w;
        for (int64_t n = 0; n < N; n++)
            dnnl_sgemm('N', 'T', K, C, HW, 1.0f, y + n * K * HW, HW, x + n * C * HW, HW, n ? 1.0f : 0.0f,
                       dw, C);
        if (db) dk_bias_grad_nchw(y, db, N, K, HW);
    }
    return 0;
}

// Looks up (or creates) the primitive for `k` and runs it on p0..p3 (in run_conv's order).
static int run_key(const conv_key *k, void *p0, void *p1, void *p2, void *p3, int weights_bf16) {
    int rc = 0;
    pthread_mutex_lock(&g_lock);
    conv_entry *e = lookup(k, &rc);
    if (e) {
        void *ptrs[4] = {p0, p1, p2, p3};  // slot order matches create_entry
        if (k->kind == KIND_FWD && p3) { ptrs[2] = p3; ptrs[3] = p2; }
        rc = execute(e, ptrs, weights_bf16);
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

// Winograd keeps every buffer at several times the size of its operand: transformed weights
// are 4x the weights (twice: oneDNN books a second copy even where inference never uses it),
// transformed tiles 2.25x the images. So a large one runs as bands of output rows and slices of
// output channels, each a convolution of its own with bounded buffers; the input transform is
// repeated per channel slice, a small cost next to the products.
#define WINOGRAD_MAX_WEIGHTS (8 << 20)  // floats of one slice's transformed weights (32 MB)
static int winograd_tiled(const conv_key *whole, const float *x, const void *w, int weights_bf16, float *y,
                          const float *bias) {
    int64_t C = whole->C, K = whole->K, OH = whole->OH, OW = whole->OW, W = whole->W, H = whole->H;
    // Equal slices of a multiple of 16 channels (oneDNN's block); bands of a multiple of 4 rows (a tile).
    int64_t most = WINOGRAD_MAX_WEIGHTS / 36 / C, slices = (K + most - 1) / (most > 0 ? most : 1);
    int64_t slice = ((K + slices - 1) / slices + 15) / 16 * 16;
    if (slice > K) slice = K;
    int64_t widest = C > slice ? C : slice;
    int64_t rows = WINOGRAD_MAX_ELEMENTS / (whole->N * OW * widest) / 4 * 4;
    rows = rows < 4 ? 4 : rows > OH ? OH : rows;
    for (int64_t k0 = 0; k0 < K; k0 += slice)
        for (int64_t oh0 = 0; oh0 < OH; oh0 += rows) {
            conv_key k = *whole;
            k.K = K - k0 < slice ? K - k0 : slice;
            k.OH = OH - oh0 < rows ? OH - oh0 : rows;
            int64_t first = oh0 - whole->pad, last = oh0 + k.OH - 1 - whole->pad + whole->R;  // input rows [first, last)
            int64_t h0 = first < 0 ? 0 : first, h1 = last > H ? H : last;
            k.H = h1 - h0;
            k.pad_top = h0 - first;
            k.pad_bottom = last - h1;
            size_t w_offset = (size_t)(k0 * C * whole->R * whole->S) * (weights_bf16 ? 2 : 4);
            int rc = run_key(&k, (void *)(x + h0 * W), (char *)w + w_offset, y + k0 * OH * OW + oh0 * OW,
                             bias ? (void *)(bias + k0) : NULL, weights_bf16);
            if (rc) return rc;
        }
    return 0;
}

// weights_bf16: the forward's weights (p1) are bf16 bits.
static int run_conv(int kind, void *p0, void *p1, void *p2, void *p3, int64_t N, int64_t C, int64_t H,
                    int64_t W, int64_t K, int64_t R, int64_t S, int64_t stride, int64_t pad, int64_t OH,
                    int64_t OW, int emulated, int weights_bf16) {
    int rc = check_shape(N, C, H, W, K, R, S, stride, pad, OH, OW);
    if (rc) return rc;
    if (!p0 || !p1 || !p2) return DK_ERR_ARG;
    pthread_once(&g_once, init_engine);
    if (g_init_status) return g_init_status;
    conv_key k;
    memset(&k, 0, sizeof(k));
    // Gradients take bf16 too (mixed-precision training) where the probe found them right.
    k = (conv_key){kind, 0, N, C, H, W, K, R, S, stride, pad, OH, OW, p3 != NULL,
                   g_bf16 && (kind == KIND_FWD || g_bf16_gradients),
                   pad, pad, H * W, OH * OW, K, emulated};
    k.mode = g_forced_mode == DK_CONV_AUTO ? auto_mode(&k) : g_forced_mode;
    if (k.mode == DK_CONV_WINOGRAD_BF16 && !winograd_bf16_runs(&k)) k.mode = DK_CONV_WINOGRAD;
    if (k.mode == DK_CONV_WINOGRAD_BF16) return dk_winograd_bf16_forward(p0, p1, weights_bf16, p3, p2, N, C, H, W, K);
    if (k.mode == DK_CONV_GEMM_1X1_BF16 && !gemm_1x1_bf16_runs(&k)) k.mode = DK_CONV_BLOCKED;
    if (k.mode == DK_CONV_GEMM_1X1_BF16 && kind == KIND_FWD)
        return dk_conv1x1_bf16_forward(p0, p1, weights_bf16, p3, p2, N, C, H * W, K);
    if (k.mode == DK_CONV_GEMM_1X1_BF16) return dk_conv1x1_bf16_backward_data(p0, p1, weights_bf16, p2, N, C, H * W, K);
    if (k.mode == DK_CONV_GRAD_3X3_BF16 && grad_3x3_bf16_runs(&k))
        return dk_conv3x3_bf16_backward_weights(p0, p1, p2, p3, N, C, H, W, K);
    if (k.mode == DK_CONV_GRAD_3X3_BF16) k.mode = DK_CONV_BLOCKED;
    if (k.mode == DK_CONV_WINOGRAD) k.bf16 = 0;  // float32 Winograd (see auto_mode)
    if (k.mode == DK_CONV_GEMM_1X1 && (!is_1x1(&k) || k.bf16)) k.mode = DK_CONV_BLOCKED;
    if (k.mode == DK_CONV_WINOGRAD && (kind != KIND_FWD || stride != 1)) k.mode = DK_CONV_BLOCKED;
    if (k.mode == DK_CONV_GEMM_1X1 && weights_bf16) {  // sgemm on the weights' float32 values
        float *w = dk_alloc_floats(K * C);
        if (!w) return DK_ERR_ALLOC;
        dk_f32_from_bf16(p1, w, K * C);
        rc = gemm_1x1(kind, p0, w, p2, NULL, p3, N, C, K, H * W);
        dk_free(w);
        return rc;
    }
    if (k.mode == DK_CONV_GEMM_1X1) {
        int64_t HW = H * W;
        if (kind == KIND_FWD) return gemm_1x1(kind, p0, p1, p2, NULL, p3, N, C, K, HW);
        if (kind == KIND_BWD_DATA) return gemm_1x1(kind, p2, p1, p0, NULL, NULL, N, C, K, HW);
        return gemm_1x1(kind, p0, p2, p1, p3, NULL, N, C, K, HW);
    }
    if (k.mode == DK_CONV_WINOGRAD) return winograd_tiled(&k, p0, p1, weights_bf16, p2, p3);
    return run_key(&k, p0, p1, p2, p3, weights_bf16);
}

// Emulated bf16: the float32 kernel on its two operands rounded to bf16 values (a and b hold
// na and nb floats); the output, the bias and the bias gradient stay float32.
static int run_conv_emulated(int kind, const float *a, int64_t na, const float *b, int64_t nb, float *out, float *p3,
                             int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S,
                             int64_t stride, int64_t pad, int64_t OH, int64_t OW) {
    float *ra = dk_alloc_floats(na), *rb = ra ? dk_alloc_floats(nb) : NULL;
    int rc = rb ? dk_round_bf16(a, ra, na) : DK_ERR_ALLOC;
    if (!rc) rc = dk_round_bf16(b, rb, nb);
    if (!rc) rc = run_conv(kind, ra, rb, out, p3, N, C, H, W, K, R, S, stride, pad, OH, OW, 1, 0);
    dk_free(ra);
    dk_free(rb);
    return rc;
}

static int emulating(int64_t N, int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S, int64_t stride,
                     int64_t pad, int64_t OH, int64_t OW, const void *a, const void *b, const void *out) {
    return dk_get_precision() == DK_PRECISION_BF16_EMULATED && !check_shape(N, C, H, W, K, R, S, stride, pad, OH, OW) &&
           a && b && out;
}

int dk_conv2d_forward(const float *x, const float *w, const float *bias, float *y, int64_t N, int64_t C,
                      int64_t H, int64_t W, int64_t K, int64_t R, int64_t S, int64_t stride, int64_t pad,
                      int64_t OH, int64_t OW) {
    // bf16's numerics on any CPU: float32 kernels (Winograd included, whose own error is ~1e-6,
    // far below bf16's 4e-3) on inputs and weights rounded to bf16 values; the bias stays float32
    // as oneDNN's bf16 kernels keep it.
    if (emulating(N, C, H, W, K, R, S, stride, pad, OH, OW, x, w, y))
        return run_conv_emulated(KIND_FWD, x, N * C * H * W, w, K * C * R * S, y, (float *)bias, N, C, H, W, K, R, S,
                                 stride, pad, OH, OW);
    return run_conv(KIND_FWD, (void *)x, (void *)w, y, (void *)bias, N, C, H, W, K, R, S, stride, pad, OH, OW, 0, 0);
}

int dk_conv2d_forward_bf16_weights(const float *x, const uint16_t *w, const float *bias, float *y, int64_t N,
                                   int64_t C, int64_t H, int64_t W, int64_t K, int64_t R, int64_t S, int64_t stride,
                                   int64_t pad, int64_t OH, int64_t OW) {
    if (emulating(N, C, H, W, K, R, S, stride, pad, OH, OW, x, w, y)) {  // bf16 values are their own rounding
        float *w32 = dk_alloc_floats(K * C * R * S);
        if (!w32) return DK_ERR_ALLOC;
        dk_f32_from_bf16(w, w32, K * C * R * S);
        int rc = dk_conv2d_forward(x, w32, bias, y, N, C, H, W, K, R, S, stride, pad, OH, OW);
        dk_free(w32);
        return rc;
    }
    return run_conv(KIND_FWD, (void *)x, (void *)w, y, (void *)bias, N, C, H, W, K, R, S, stride, pad, OH, OW, 0, 1);
}

int dk_conv2d_backward_data(const float *dy, const float *w, float *dx, int64_t N, int64_t C, int64_t H,
                            int64_t W, int64_t K, int64_t R, int64_t S, int64_t stride, int64_t pad,
                            int64_t OH, int64_t OW) {
    if (emulating(N, C, H, W, K, R, S, stride, pad, OH, OW, dy, w, dx))
        return run_conv_emulated(KIND_BWD_DATA, dy, N * K * OH * OW, w, K * C * R * S, dx, NULL, N, C, H, W, K, R, S,
                                 stride, pad, OH, OW);
    return run_conv(KIND_BWD_DATA, (void *)dy, (void *)w, dx, NULL, N, C, H, W, K, R, S, stride, pad, OH, OW, 0, 0);
}

int dk_conv2d_backward_weights(const float *x, const float *dy, float *dw, float *db, int64_t N, int64_t C,
                               int64_t H, int64_t W, int64_t K, int64_t R, int64_t S, int64_t stride,
                               int64_t pad, int64_t OH, int64_t OW) {
    if (emulating(N, C, H, W, K, R, S, stride, pad, OH, OW, x, dy, dw))
        return run_conv_emulated(KIND_BWD_WEIGHTS, x, N * C * H * W, dy, N * K * OH * OW, dw, db, N, C, H, W, K, R, S,
                                 stride, pad, OH, OW);
    return run_conv(KIND_BWD_WEIGHTS, (void *)x, (void *)dy, dw, db, N, C, H, W, K, R, S, stride, pad, OH, OW, 0, 0);
}

void dk_conv_clear_cache(void) {
    pthread_mutex_lock(&g_lock);
    dk_frozen_clear();  // keyed by entries that are about to go
    for (int b = 0; b < NBUCKETS; b++) {
        conv_entry *e = g_buckets[b];
        while (e) {
            conv_entry *n = e->next;
            destroy_entry(e);
            e = n;
        }
        g_buckets[b] = NULL;
    }
    dk_scratch_release(&g_scratch);
    pthread_mutex_unlock(&g_lock);
}

// The largest difference between a bf16 gradient (g_bf16 set) and the float32 one, relative
// to the float32 one's largest magnitude; kind is KIND_BWD_DATA or KIND_BWD_WEIGHTS.
static float probe_gradient(int kind) {
    enum { N = 2, C = 16, H = 6, W = 6, K = 16 };
    static float a[N * K * H * W], b[N * C * H * W], out[2][K * C * 9 > N * C * H * W ? K * C * 9 : N * C * H * W];
    for (int i = 0; i < N * K * H * W; i++) a[i] = sinf(0.37f * (float)i);
    for (int i = 0; i < N * C * H * W; i++) b[i] = cosf(0.11f * (float)i);
    float w[K * C * 9];
    for (int i = 0; i < K * C * 9; i++) w[i] = 0.1f * sinf(0.53f * (float)i);
    int64_t n = kind == KIND_BWD_DATA ? N * C * H * W : K * C * 9;
    for (int pass = 0; pass < 2; pass++) {
        g_bf16_gradients = pass == 0;
        int rc = kind == KIND_BWD_DATA
                     ? run_conv(kind, a, w, out[pass], NULL, N, C, H, W, K, 3, 3, 1, 1, H, W, 0, 0)   // dy, w -> dx
                     : run_conv(kind, b, a, out[pass], NULL, N, C, H, W, K, 3, 3, 1, 1, H, W, 0, 0);  // x, dy -> dw
        if (rc) return INFINITY;
    }
    float worst = 0, largest = 0;
    for (int64_t i = 0; i < n; i++) {
        worst = fmaxf(worst, fabsf(out[0][i] - out[1][i]));
        largest = fmaxf(largest, fabsf(out[1][i]));
    }
    return worst / largest;
}

int dk_conv_set_bf16(int on) {
    if (!on) { g_bf16 = 0; return 0; }
    // Probe once with a small convolution: CPUs without AVX-512 BF16 (or AMX) refuse it.
    static int probed = -1;
    if (probed < 0) {
        float x[2 * 16 * 4 * 4], w[16 * 16 * 9], y[2 * 16 * 4 * 4];
        memset(x, 0, sizeof x);
        memset(w, 0, sizeof w);
        int saved = g_bf16;
        g_bf16 = 1;
        probed = run_conv(KIND_FWD, x, w, y, NULL, 2, 16, 4, 4, 16, 3, 3, 1, 1, 4, 4, 0, 0) == 0;
        g_bf16 = saved;
    }
    if (!probed) return DK_ERR_BACKEND;
    g_bf16 = 1;
    // bf16 operands (8 bits of mantissa) over 144-term sums: about 1e-3 of the largest value.
    static int gradients_ok = -1;
    if (gradients_ok < 0) gradients_ok = probe_gradient(KIND_BWD_DATA) < 2e-2f && probe_gradient(KIND_BWD_WEIGHTS) < 2e-2f;
    g_bf16_gradients = gradients_ok;
    return 0;
}
