// Float32 convolution weights into oneDNN's blocked bf16 layouts (OhwI32o2i and kin), the layout
// its bf16 direct kernels read. oneDNN's own reorder runs these at about 3 GB/s: 28 ms for a
// 1280x1280 3x3 layer, 0.63 s of the SD 1.5 U-Net's bf16 forward for the layers whose converted
// copies do not fit the kept-weights budget. This one reads each output channel's weights in
// order and writes whole pair blocks, parallel over output-channel blocks and input-channel
// chunks: 0.07 s of that forward for its 22 such layers (perf), about 3 ms a layer.
#include "bf16_weights.h"
#include "dk_math.h"
#include <stdlib.h>

#define MAX_OC_BLOCK 64
#define TILE_FLOATS 288  // of one output channel in one work item: 16 input-channel pairs of a 3x3

typedef struct {
    const float *w;      // [K, C, R, S], or
    const uint16_t *w16; // the same as bf16 bits (weights stored in bf16)
    uint16_t *out;
    int64_t K, C, RS;
    int64_t ocb;                     // output channels of the inner block (X of Xa2b)
    int64_t st_o, st_i, st_r, st_s;  // outer strides: per output block, input pair, row, column
    int64_t S, pairs, item_pairs, chunks;  // padded input pairs; pairs per item, items per output block
    int vcvt;                        // AVX-512 BF16's conversion instruction is there
} bf16w_ctx;

// One work item: an output-channel block and a chunk of input-channel pairs. Each output
// channel's weights for the chunk are one contiguous run, converted into a tile in L1; the
// tile is then written out pair block by pair block (2 x ocb values, contiguous in `out`).
DK_HOT static void convert_body(void *p, int64_t begin, int64_t end) {
    const bf16w_ctx *c = p;
    const int64_t RS = c->RS, ocb = c->ocb;
    uint16_t tile[MAX_OC_BLOCK][TILE_FLOATS];  // [o][ic in chunk][tap]
    for (int64_t item = begin; item < end; item++) {
        const int64_t ob = item / c->chunks, p0 = item % c->chunks * c->item_pairs;
        const int64_t np = p0 + c->item_pairs < c->pairs ? c->item_pairs : c->pairs - p0;
        const int64_t ic0 = 2 * p0, ics = c->C - ic0 < 2 * np ? (c->C - ic0 > 0 ? c->C - ic0 : 0) : 2 * np;
        for (int64_t o = 0; o < ocb; o++) {
            const int64_t oc = ob * ocb + o, n = oc < c->K ? ics * RS : 0;
            const int64_t at = (oc * c->C + ic0) * RS;
            const float *src = c->w + at;
            if (c->w16) {
                if (n) memcpy(tile[o], c->w16 + at, (size_t)n * 2);
                for (int64_t j = n; j < 2 * np * RS; j++) tile[o][j] = 0;
            } else if (c->vcvt) {
                dk_bf16_pack_rows(src, 1, n, n, tile[o], 2 * np * RS);  // zero in padding channels
            } else {
                for (int64_t j = 0; j < n; j++) tile[o][j] = dk_bf16_bits(src[j]);
                for (int64_t j = n; j < 2 * np * RS; j++) tile[o][j] = 0;
            }
        }
        uint16_t *block = c->out + ob * c->st_o + p0 * c->st_i;
        for (int64_t tap = 0; tap < RS; tap++) {
            uint16_t *at = block + tap / c->S * c->st_r + tap % c->S * c->st_s;
            for (int64_t pair = 0; pair < np; pair++) {
                uint16_t *dst = at + pair * c->st_i;
                const int64_t first = 2 * pair * RS + tap;
                for (int64_t o = 0; o < ocb; o++) {
                    dst[2 * o] = tile[o][first];
                    dst[2 * o + 1] = tile[o][first + RS];
                }
            }
        }
    }
}

int dk_bf16_weights_supported(const dnnl_memory_desc_t *md) {
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    return md->ndims == 4 && md->data_type == dnnl_bf16 && md->format_kind == dnnl_blocked && md->offset0 == 0 &&
           b->inner_nblks == 2 && b->inner_idxs[0] == 0 && b->inner_idxs[1] == 1 && b->inner_blks[1] == 2 &&
           b->inner_blks[0] > 0 && b->inner_blks[0] <= MAX_OC_BLOCK && md->padded_dims[0] % b->inner_blks[0] == 0 &&
           md->padded_dims[1] % 2 == 0 && md->padded_dims[2] == md->dims[2] && md->padded_dims[3] == md->dims[3] &&
           2 * md->dims[2] * md->dims[3] <= TILE_FLOATS;
}

static int convert(const float *w, const uint16_t *w16, uint16_t *out, const dnnl_memory_desc_t *md) {
    if (!dk_bf16_weights_supported(md)) return -1;
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    const int64_t ocb = b->inner_blks[0], pairs = md->padded_dims[1] / 2, RS = md->dims[2] * md->dims[3];
    const int64_t item_pairs = TILE_FLOATS / (2 * RS), chunks = (pairs + item_pairs - 1) / item_pairs;
    bf16w_ctx c = {w, w16, out, md->dims[0], md->dims[1], RS, ocb, b->strides[0], b->strides[1], b->strides[2],
                   b->strides[3], md->dims[3], pairs, item_pairs, chunks, dk_bf16_gemm_available()};
    dk_parallel_for(md->padded_dims[0] / ocb * chunks, 1, &c, convert_body);
    return 0;
}

int dk_bf16_weights(const float *w, uint16_t *out, const dnnl_memory_desc_t *md) { return convert(w, NULL, out, md); }

int dk_bf16_weights_from_bf16(const uint16_t *w, uint16_t *out, const dnnl_memory_desc_t *md) {
    return convert(NULL, w, out, md);
}

int64_t dk_bf16_weights_mismatches(const float *w, int64_t K, int64_t C, int64_t R, int64_t S, int block) {
    if (K <= 0 || C <= 0 || R <= 0 || S <= 0) return DK_ERR_SHAPE;
    if (!w) return DK_ERR_ARG;
    dnnl_format_tag_t tag = block == 16 ? dnnl_AcdB16a2b : block == 32 ? dnnl_AcdB32a2b
                          : block == 64 ? dnnl_AcdB64a2b : dnnl_format_tag_undef;
    if (tag == dnnl_format_tag_undef) return DK_ERR_ARG;
    dnnl_dims_t dims = {K, C, R, S};
    dnnl_memory_desc_t user, blocked;
    dnnl_engine_t engine = NULL;
    dnnl_stream_t stream = NULL;
    dnnl_memory_t from = NULL, to = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t reorder = NULL;
    uint16_t *ours = NULL;
    int64_t result = DK_ERR_BACKEND;
    if (dnnl_memory_desc_init_by_tag(&user, 4, dims, dnnl_f32, dnnl_oihw) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&blocked, 4, dims, dnnl_bf16, tag) != dnnl_success ||
        !dk_bf16_weights_supported(&blocked) || dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success ||
        dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success ||
        dnnl_memory_create(&from, &user, engine, (void *)w) != dnnl_success ||
        dnnl_memory_create(&to, &blocked, engine, DNNL_MEMORY_ALLOCATE) != dnnl_success ||
        dnnl_reorder_primitive_desc_create(&pd, &user, engine, &blocked, engine, NULL) != dnnl_success ||
        dnnl_primitive_create(&reorder, pd) != dnnl_success)
        goto done;
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    if (dnnl_primitive_execute(reorder, stream, 2, args) != dnnl_success || dnnl_stream_wait(stream) != dnnl_success)
        goto done;
    size_t bytes = dnnl_memory_desc_get_size(&blocked);
    void *theirs = NULL;
    if (!(ours = malloc(bytes))) { result = DK_ERR_ALLOC; goto done; }
    memset(ours, 0xff, bytes);  // so a byte left unwritten shows as a difference
    if (dnnl_memory_get_data_handle(to, &theirs) != dnnl_success || dk_bf16_weights(w, ours, &blocked)) goto done;
    result = 0;
    for (size_t i = 0; i < bytes; i++) result += ((const uint8_t *)theirs)[i] != ((const uint8_t *)ours)[i];
done:
    free(ours);
    if (reorder) dnnl_primitive_destroy(reorder);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (to) dnnl_memory_destroy(to);
    if (from) dnnl_memory_destroy(from);
    if (stream) dnnl_stream_destroy(stream);
    if (engine) dnnl_engine_destroy(engine);
    return result;
}
