// Parallel loops on libgomp's thread pool, the same pool oneDNN uses (its GEMMs and
// convolutions), so the process never runs two spinning pools at once.
#include "CKernels.h"
#include <stdlib.h>
#include <unistd.h>

extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
extern int omp_get_max_threads(void);
extern int omp_in_parallel(void);
extern void omp_set_num_threads(int);

void dk_set_threads(int n) {
    if (n < 1) n = 1;
    omp_set_num_threads(n);
}

int dk_get_threads(void) { return omp_get_max_threads(); }

// libgomp lets a thread that waits at a barrier or for work spin 300,000 times (~3 ms) before
// it sleeps. With another busy process on the same cores that spinning takes the cores the other
// threads need: on the loaded 2-core machine of session 10 (load average 18) a models/emoji image
// took over 10 s with it (5 runs did not finish in 60 s), 4.2-4.6 s with 1,000 spins and
// 3.0-3.4 s with none. 1,000 spins (~10 us) still catch the short gaps between the many small
// parallel regions of a U-Net step on a quiet machine, where sleeping at once costs a futex
// wake-up per region (scripts/bench-contention.sh; README, Performance: sharing the cores).
#define DK_SPIN_COUNT "1000"

void dk_apply_wait_policy(char *const argv[]) {
    // libgomp reads the policy once, when it is loaded: before main, so setenv alone is too late.
    if (!argv || getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;  // the user's choice
    if (setenv("GOMP_SPINCOUNT", DK_SPIN_COUNT, 1)) return;
    execv("/proc/self/exe", argv);
    unsetenv("GOMP_SPINCOUNT");  // no /proc: carry on with libgomp's default
}

typedef struct {
    int64_t n, chunks;
    void *ctx;
    void (*body)(void *, int64_t, int64_t);
} loop_t;

static void run_chunks(void *p) {
    loop_t *l = (loop_t *)p;
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    for (int64_t c = t; c < l->chunks; c += nt) {
        int64_t b = l->n * c / l->chunks, e = l->n * (c + 1) / l->chunks;
        if (e > b) l->body(l->ctx, b, e);
    }
}

void dk_parallel_for(int64_t n, int64_t min_chunk, void *ctx,
                     void (*body)(void *, int64_t, int64_t)) {
    if (n <= 0) return;
    int threads = omp_get_max_threads();
    if (min_chunk < 1) min_chunk = 1;
    int64_t chunks = n / min_chunk;
    if (chunks > threads) chunks = threads;
    if (chunks <= 1 || threads <= 1 || omp_in_parallel()) {
        body(ctx, 0, n);
        return;
    }
    loop_t l = {n, chunks, ctx, body};
    GOMP_parallel(run_chunks, &l, (unsigned)chunks, 0);
}
