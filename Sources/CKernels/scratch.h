// Internal: a grow-only scratch buffer, one per kernel family (conv.c, matmul.c), used under
// that family's lock: its primitives run one at a time, so one buffer as large as the largest
// need serves them all.
#ifndef DK_SCRATCH_H
#define DK_SCRATCH_H
#include <stddef.h>

typedef struct {
    void *p;
    size_t bytes;
} dk_scratch;

/// Makes s at least `bytes` long (64-byte aligned); its contents are not kept. 0 or DK_ERR_ALLOC.
int dk_scratch_reserve(dk_scratch *s, size_t bytes);
/// Frees the buffer.
void dk_scratch_release(dk_scratch *s);
#endif
