// CKernels: C compute kernels for TensorCore, all running on libgomp's one thread pool.
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>

// ---- threads (parallel.c) ----
/// Sets the number of threads used by every kernel, OpenBLAS and oneDNN (OpenMP pool).
void dk_set_threads(int n);
int dk_get_threads(void);
/// Runs body(ctx, begin, end) over [0, n) split into contiguous chunks, one per thread.
/// Chunks depend only on n and the thread count; body must not depend on which thread
/// runs it. Runs inline when n is small or when already inside a parallel region.
void dk_parallel_for(int64_t n, int64_t min_chunk, void *ctx,
                     void (*body)(void *ctx, int64_t begin, int64_t end));

#endif
