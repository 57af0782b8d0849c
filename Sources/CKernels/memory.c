// Buffers, copy, bias gradient and an sgemm wrapper: the small shared kernels.
#include "CKernels.h"
#include "dk_math.h"
#include "scratch.h"
#include <dnnl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Blocks over glibc's largest mmap threshold (32 MB, below) are mapped afresh by each allocation
 * and page-faulted in again as they are written: in the SD 1.5 VAE decoder (activations up to
 * 268 MB at 512x512) the kernel's page faults and page clearing were 15 % of the CPU time. So the
 * last few freed big blocks stay mapped for the next big allocations. */
#define BIG_BYTES ((size_t)32 << 20)
#define BIG_SLOTS 4
typedef struct { void *p; size_t bytes; } big_block;
static big_block g_big[BIG_SLOTS];  // oldest first
static int g_big_count;
static pthread_mutex_t g_big_lock = PTHREAD_MUTEX_INITIALIZER;

// The smallest kept block of at least `bytes`, or NULL. A larger block serves a smaller request:
// its pages are resident already (best fit rather than a near-exact size took the SD 1.5 VAE
// decode in bf16 from 5.7-6.1 to 5.4-5.7 s, its peak from 1.71-1.75 to 1.86-1.91 GB). When none
// is large enough, all are freed before a new one is mapped, which bounds what they add to the peak.
static void *reuse_big(size_t bytes) {
    void *p = NULL;
    pthread_mutex_lock(&g_big_lock);
    int best = -1;
    for (int i = 0; i < g_big_count; i++)
        if (g_big[i].bytes >= bytes && (best < 0 || g_big[i].bytes < g_big[best].bytes)) best = i;
    if (best >= 0) {
        p = g_big[best].p;
        memmove(g_big + best, g_big + best + 1, (size_t)(g_big_count - best - 1) * sizeof(big_block));
        g_big_count--;
    }
    if (!p) {
        for (int i = 0; i < g_big_count; i++) free(g_big[i].p);
        g_big_count = 0;
    }
    pthread_mutex_unlock(&g_big_lock);
    return p;
}

float *dk_alloc_floats(int64_t n) {
    if (n < 0) return NULL;
    void *p = NULL;
    size_t bytes = ((size_t)(n ? n : 1) * sizeof(float) + 63) & ~(size_t)63;
    if (bytes >= BIG_BYTES && (p = reuse_big(bytes))) return p;
    if (posix_memalign(&p, 64, bytes)) return NULL;
    return p;
}

void dk_free(void *p) {
    if (!p) return;
    size_t bytes = malloc_usable_size(p);
    if (bytes >= BIG_BYTES) {
        void *evicted = NULL;
        pthread_mutex_lock(&g_big_lock);
        if (g_big_count == BIG_SLOTS) {
            evicted = g_big[0].p;
            memmove(g_big, g_big + 1, (BIG_SLOTS - 1) * sizeof(big_block));
            g_big_count--;
        }
        g_big[g_big_count++] = (big_block){p, bytes};
        pthread_mutex_unlock(&g_big_lock);
        p = evicted;
    }
    free(p);
}

int dk_scratch_reserve(dk_scratch *s, size_t bytes) {
    if (bytes <= s->bytes) return 0;
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes)) return DK_ERR_ALLOC;
    free(s->p);
    s->p = p;
    s->bytes = bytes;
    return 0;
}

void dk_scratch_release(dk_scratch *s) {
    free(s->p);
    s->p = NULL;
    s->bytes = 0;
}

typedef struct { const float *src; float *dst; } copy_ctx;

static void copy_body(void *p, int64_t b, int64_t e) {
    copy_ctx *c = p;
    memcpy(c->dst + b, c->src + b, (size_t)(e - b) * sizeof(float));
}

int dk_copy(const float *src, float *dst, int64_t n) {
    if (n < 0) return DK_ERR_SHAPE;
    if (n && (!src || !dst)) return DK_ERR_ARG;
    copy_ctx c = {src, dst};
    dk_parallel_for(n, 32768, &c, copy_body);
    return 0;
}

typedef struct { const float *dy; float *db; int64_t N, K, HW; } bias_ctx;

DK_HOT static void bias_body(void *p, int64_t b, int64_t e) {
    bias_ctx *c = p;
    for (int64_t k = b; k < e; k++) {
        float s = 0.0f;
        for (int64_t n = 0; n < c->N; n++) s += dk_sum(c->dy + (n * c->K + k) * c->HW, c->HW);
        c->db[k] = s;
    }
}

int dk_bias_grad_nchw(const float *dy, float *db, int64_t N, int64_t K, int64_t HW) {
    if (N < 0 || K <= 0 || HW <= 0) return DK_ERR_SHAPE;
    if (!dy || !db) return DK_ERR_ARG;
    bias_ctx c = {dy, db, N, K, HW};
    dk_parallel_for(K, 16384 / (N * HW + 1) + 1, &c, bias_body);
    return 0;
}

int dk_sgemm(int trans_a, int trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
             int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc) {
    if (M < 0 || N < 0 || K < 0) return DK_ERR_SHAPE;
    int64_t minA = trans_a ? M : K, minB = trans_b ? K : N;
    if (lda < (minA > 1 ? minA : 1) || ldb < (minB > 1 ? minB : 1) || ldc < (N > 1 ? N : 1)) return DK_ERR_SHAPE;
    if (M == 0 || N == 0) return 0;
    if (!A || !B || !C) return DK_ERR_ARG;
    dnnl_status_t status = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', M, N, K, alpha, A, lda, B, ldb,
                                      beta, C, ldc);
    return status == dnnl_success ? 0 : DK_ERR_ARG;
}

/* Every op frees and allocates whole tensors. glibc returns blocks over 128 KB to the kernel
 * (mmap/munmap), so each reuse page-faults afresh: measured as half of all CPU time (system
 * time) while training. Keep freed blocks of up to 32 MB in the heap instead. */
__attribute__((constructor)) static void dk_keep_freed_memory(void) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
    mallopt(M_TOP_PAD, 16 << 20);
}
