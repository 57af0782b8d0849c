// GEMMs with bf16 inputs and float32 accumulation and output on oneDNN's matmul primitive (its C
// API has no bf16 GEMM function); primitives cached per shape. The same code builds a float32
// matmul (bf16 = 0), which any CPU runs, so the strides, transposes, alpha and beta are tested
// everywhere and only the data type differs on a CPU with AVX-512 BF16.
#include "CKernels.h"
#include "dk_math.h"
#include "frozen.h"
#include "scratch.h"
#include <dnnl.h>
#include <pthread.h>
#include <stdlib.h>

static dnnl_engine_t g_engine;
static dnnl_stream_t g_stream;
static int g_init_status = -1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static void init_engine(void) {
    if (dnnl_engine_create(&g_engine, dnnl_cpu, 0) != dnnl_success) return;
    if (dnnl_stream_create(&g_stream, g_engine, dnnl_stream_default_flags) != dnnl_success) return;
    g_init_status = 0;
}

// Operands are packed (leading dimension = stored columns): a transposed one keeps its layout and
// is described by its strides. alpha and beta are part of the primitive (output scale, sum post-op).
typedef struct {
    int64_t M, N, K, trans_a, trans_b, bf16, has_bias, c_bf16;
    float alpha, beta;
} mm_key;

typedef struct mm_entry {
    mm_key key;
    dnnl_primitive_t prim;
    dnnl_memory_t a, b, c, bias;  // bias: [1, N] float32, added in the epilogue (NULL without)
    dnnl_memory_t scratchpad;  // oneDNN's working memory (its copies of the operands), or NULL
    size_t scratchpad_bytes;
    struct mm_entry *next;
} mm_entry;

// Every primitive's scratchpad lives in one buffer, as large as the largest (primitives run one
// at a time, under g_lock). With oneDNN's own scratchpads the peak of a bf16 training step of
// the bench U-Net was 876-885 MB; with this one, 861-876 MB.
static dk_scratch g_scratch;

#define NBUCKETS 64
static mm_entry *g_buckets[NBUCKETS];

static uint64_t key_hash(const mm_key *k) {
    const unsigned char *p = (const unsigned char *)k;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof(mm_key); i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void destroy_entry(mm_entry *e) {
    if (e->prim) dnnl_primitive_destroy(e->prim);
    if (e->a) dnnl_memory_destroy(e->a);
    if (e->b) dnnl_memory_destroy(e->b);
    if (e->c) dnnl_memory_destroy(e->c);
    if (e->bias) dnnl_memory_destroy(e->bias);
    if (e->scratchpad) dnnl_memory_destroy(e->scratchpad);
    free(e);
}

#define CHECK(x) do { if ((x) != dnnl_success) goto fail; } while (0)

static mm_entry *create_entry(const mm_key *k) {
    mm_entry *e = calloc(1, sizeof(mm_entry));
    if (!e) return NULL;
    e->key = *k;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_post_ops_t ops = NULL;
    dnnl_data_type_t in = k->bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_dims_t ad = {k->M, k->K}, bd = {k->K, k->N}, cd = {k->M, k->N}, biasd = {1, k->N};
    dnnl_dims_t as = {k->trans_a ? 1 : k->K, k->trans_a ? k->M : 1};  // A stored [M, K] or [K, M]
    dnnl_dims_t bs = {k->trans_b ? 1 : k->N, k->trans_b ? k->K : 1};  // B stored [K, N] or [N, K]
    dnnl_dims_t cs = {k->N, 1};
    dnnl_memory_desc_t amd, bmd, cmd, biasmd;
    CHECK(dnnl_memory_desc_init_by_strides(&amd, 2, ad, in, as));
    CHECK(dnnl_memory_desc_init_by_strides(&bmd, 2, bd, in, bs));
    CHECK(dnnl_memory_desc_init_by_strides(&cmd, 2, cd, k->c_bf16 ? dnnl_bf16 : dnnl_f32, cs));
    CHECK(dnnl_memory_desc_init_by_tag(&biasmd, 2, biasd, dnnl_f32, dnnl_ab));
    CHECK(dnnl_primitive_attr_create(&attr));
    CHECK(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user));
    if (k->alpha != 1.0f) CHECK(dnnl_primitive_attr_set_output_scales(attr, 1, 0, &k->alpha));
    if (k->beta != 0.0f) {
        CHECK(dnnl_post_ops_create(&ops));
        CHECK(dnnl_post_ops_append_sum(ops, k->beta));
        CHECK(dnnl_primitive_attr_set_post_ops(attr, ops));
    }
    dnnl_matmul_desc_t desc;
    CHECK(dnnl_matmul_desc_init(&desc, &amd, &bmd, k->has_bias ? &biasmd : NULL, &cmd));
    CHECK(dnnl_primitive_desc_create(&pd, &desc, attr, g_engine, NULL));
    CHECK(dnnl_primitive_create(&e->prim, pd));
    CHECK(dnnl_memory_create(&e->a, &amd, g_engine, DNNL_MEMORY_NONE));
    CHECK(dnnl_memory_create(&e->b, &bmd, g_engine, DNNL_MEMORY_NONE));
    CHECK(dnnl_memory_create(&e->c, &cmd, g_engine, DNNL_MEMORY_NONE));
    if (k->has_bias) CHECK(dnnl_memory_create(&e->bias, &biasmd, g_engine, DNNL_MEMORY_NONE));
    const dnnl_memory_desc_t *pad_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (pad_md && (e->scratchpad_bytes = dnnl_memory_desc_get_size(pad_md)) > 0)
        CHECK(dnnl_memory_create(&e->scratchpad, pad_md, g_engine, DNNL_MEMORY_NONE));
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    if (ops) dnnl_post_ops_destroy(ops);
    return e;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (ops) dnnl_post_ops_destroy(ops);
    destroy_entry(e);
    return NULL;
}

typedef struct { const float *src; void *dst; int64_t cols, ld; int bf16, vcvt; } pack_ctx;

DK_HOT static void pack_body(void *p, int64_t begin, int64_t end) {
    const pack_ctx *c = p;
    if (c->bf16 && c->vcvt) {  // AVX-512 BF16's conversion instruction, 16 values at a time
        dk_bf16_pack_rows(c->src + begin * c->ld, end - begin, c->cols, c->ld, (uint16_t *)c->dst + begin * c->cols,
                          c->cols);
        return;
    }
    for (int64_t r = begin; r < end; r++) {
        const float *s = c->src + r * c->ld;
        if (c->bf16) {
            uint16_t *d = (uint16_t *)c->dst + r * c->cols;
            for (int64_t j = 0; j < c->cols; j++) d[j] = dk_bf16_bits(s[j]);
        } else {
            float *d = (float *)c->dst + r * c->cols;
            for (int64_t j = 0; j < c->cols; j++) d[j] = s[j];
        }
    }
}

// A rows x cols matrix with leading dimension ld, packed into out (converted to bf16 bits when bf16).
static void pack_into(void *out, const float *m, int64_t rows, int64_t cols, int64_t ld, int bf16) {
    pack_ctx c = {m, out, cols, ld, bf16, bf16 && dk_bf16_gemm_available()};
    dk_parallel_for(rows, 16384 / (cols + 1) + 1, &c, pack_body);
}

// The operands' packed copies live in two more grow-only buffers, used under g_lock too. Allocated
// per call, the bf16 copies fell between a training step's tensors in the heap, which glibc keeps
// (memory.c): the step's peak was 35-45 MB above float32's with the same live data.
static dk_scratch g_pack_a, g_pack_b;

// A matrix packed into s; NULL when out of memory.
static void *pack(dk_scratch *s, const float *m, int64_t rows, int64_t cols, int64_t ld, int bf16) {
    if (dk_scratch_reserve(s, (size_t)(rows * cols) * (bf16 ? 2 : 4))) return NULL;
    pack_into(s->p, m, rows, cols, ld, bf16);
    return s->p;
}

// Owners of kept bf16 weight operands in frozen.c: one per stored orientation.
static const char g_kept_plain, g_kept_transposed;

// B's bf16 (or float32) operand, packed: a weight stored as bf16 (b_bf16) read in place when
// packed already, a kept copy in a frozen scope (keep_b), else one in g_pack_b.
static void *weight_operand(const void *B, int b_bf16, int64_t rows, int64_t cols, int64_t ld, int trans, int bf16,
                            int keep_b) {
    if (b_bf16) {
        if (ld == cols) return (void *)B;
        if (dk_scratch_reserve(&g_pack_b, (size_t)(rows * cols) * 2)) return NULL;
        uint16_t *out = g_pack_b.p;
        for (int64_t r = 0; r < rows; r++) memcpy(out + r * cols, (const uint16_t *)B + r * ld, (size_t)cols * 2);
        return out;
    }
    if (keep_b && bf16 && ld == cols) {
        int fresh = 1;
        void *copy = dk_frozen_copy(trans ? &g_kept_transposed : &g_kept_plain, B, (size_t)(rows * cols) * 2, &fresh);
        if (copy) {
            if (fresh) pack_into(copy, B, rows, cols, ld, 1);
            return copy;
        }
    }
    return pack(&g_pack_b, B, rows, cols, ld, bf16);
}

// C = alpha op(A) op(B) + beta C, plus bias [N] on every row when non-NULL. A holds bf16 bits when
// a_bf16 (packed: read in place); C is written as bf16 bits when c_bf16 (packed, beta 0).
static int matmul(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const void *A,
                  int a_bf16, int64_t lda, const void *B, int b_bf16, int64_t ldb, float beta, void *C, int c_bf16,
                  int64_t ldc, int bf16, int keep_b, const float *bias) {
    int64_t minA = trans_a ? M : K, minB = trans_b ? K : N;
    if (M < 0 || N < 0 || K < 0 || lda < (minA > 1 ? minA : 1) || ldb < (minB > 1 ? minB : 1) || ldc < (N > 1 ? N : 1))
        return DK_ERR_SHAPE;
    if (M == 0 || N == 0) return 0;
    if (!A || !B || !C) return DK_ERR_ARG;
    if ((K == 0 || ldc != N) && (a_bf16 || b_bf16 || bias || c_bf16)) return DK_ERR_ARG;  // the caller's float32 path serves these
    if (c_bf16 && (!bf16 || beta != 0.0f)) return DK_ERR_ARG;
    if (a_bf16 && (lda != (trans_a ? M : K) || !bf16)) return DK_ERR_ARG;
    if (K == 0 || ldc != N) return dk_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, (float *)C, ldc);
    pthread_once(&g_once, init_engine);
    if (g_init_status) return DK_ERR_BACKEND;
    int64_t ar = trans_a ? K : M, ac = trans_a ? M : K, br = trans_b ? N : K, bc = trans_b ? K : N;
    pthread_mutex_lock(&g_lock);
    void *a = a_bf16 ? (void *)A : pack(&g_pack_a, A, ar, ac, lda, bf16);
    void *b = a ? weight_operand(B, b_bf16, br, bc, ldb, trans_b, bf16, keep_b) : NULL;
    int rc = b ? 0 : DK_ERR_ALLOC;
    if (!rc) {
        mm_key key;
        memset(&key, 0, sizeof key);  // padding bytes are hashed and compared
        key.M = M, key.N = N, key.K = K, key.trans_a = trans_a != 0, key.trans_b = trans_b != 0, key.bf16 = bf16 != 0;
        key.alpha = alpha, key.beta = beta, key.has_bias = bias != NULL, key.c_bf16 = c_bf16 != 0;
        uint64_t h = key_hash(&key) % NBUCKETS;
        mm_entry *e = g_buckets[h];
        while (e && memcmp(&e->key, &key, sizeof key)) e = e->next;
        if (!e && (e = create_entry(&key))) {
            e->next = g_buckets[h];
            g_buckets[h] = e;
        }
        if (!e) rc = DK_ERR_BACKEND;
        else if (dk_scratch_reserve(&g_scratch, e->scratchpad_bytes)) rc = DK_ERR_ALLOC;
        else if (dnnl_memory_set_data_handle(e->a, a) || dnnl_memory_set_data_handle(e->b, b) ||
                 dnnl_memory_set_data_handle(e->c, C) ||
                 (e->bias && dnnl_memory_set_data_handle(e->bias, (void *)bias)) ||
                 (e->scratchpad && dnnl_memory_set_data_handle(e->scratchpad, g_scratch.p)))
            rc = DK_ERR_BACKEND;
        else {
            dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, e->a}, {DNNL_ARG_WEIGHTS, e->b}, {DNNL_ARG_DST, e->c}};
            int nargs = 3;
            if (e->bias) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, e->bias};
            if (e->scratchpad) args[nargs++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, e->scratchpad};
            if (dnnl_primitive_execute(e->prim, g_stream, nargs, args) || dnnl_stream_wait(g_stream))
                rc = DK_ERR_BACKEND;
        }
    }
    pthread_mutex_unlock(&g_lock);
    return rc;
}

int dk_matmul(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb, float beta, float *C, int64_t ldc, int bf16) {
    return matmul(trans_a, trans_b, M, N, K, alpha, A, 0, lda, B, 0, ldb, beta, C, 0, ldc, bf16, 0, NULL);
}

int dk_matmul_weights(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                      int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc, int bf16,
                      int keep_b) {
    return matmul(trans_a, trans_b, M, N, K, alpha, A, 0, lda, B, 0, ldb, beta, C, 0, ldc, bf16, keep_b, NULL);
}

int dk_matmul_bf16_weights(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                           int64_t lda, const uint16_t *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    return matmul(trans_a, trans_b, M, N, K, alpha, A, 0, lda, B, 1, ldb, beta, C, 0, ldc, 1, 0, NULL);
}

int dk_matmul_linear(int64_t M, int64_t N, int64_t K, const void *x, int x_bf16, const void *w, int w_bf16, int keep_w,
                     const float *bias, void *y, int y_bf16) {
    return matmul(0, 1, M, N, K, 1.0f, x, x_bf16 != 0, K, w, w_bf16 != 0, K, 0.0f, y, y_bf16 != 0, N, 1, keep_w, bias);
}

int dk_matmul_bf16_input(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const uint16_t *A,
                         int64_t lda, const void *B, int b_bf16, int64_t ldb, float beta, float *C, int64_t ldc) {
    if (!dk_bf16_native_supported()) return DK_ERR_BACKEND;
    return matmul(trans_a, trans_b, M, N, K, alpha, A, 1, lda, B, b_bf16 != 0, ldb, beta, C, 0, ldc, 1, 0, NULL);
}
