// Frozen weights: while a caller promises that no weights change (dk_weights_frozen_begin), the
// converted, reordered or transformed copy of each weight tensor is kept, keyed by its owner
// (the primitive or layout it was made for) and the weights' address, so a denoising loop
// converts its weights once instead of every step. For the bench U-Net at batch 2 the
// convolutions' weight reorders took almost as long as the convolutions (8.4 vs 9.3 ms a
// forward); in bf16 every Linear layer's weights were converted on every call.
#include "frozen.h"
#include "CKernels.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
    const void *owner, *weights;
    size_t bytes;
    void *copy;
} frozen_copy;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_depth;
static size_t g_budget, g_bytes;
static frozen_copy *g_copies;
static int64_t g_count, g_capacity;

void *dk_frozen_copy(const void *owner, const void *weights, size_t bytes, int *fresh) {
    void *copy = NULL;
    *fresh = 1;
    pthread_mutex_lock(&g_lock);
    if (!g_depth) goto done;
    for (int64_t i = 0; i < g_count; i++)
        if (g_copies[i].owner == owner && g_copies[i].weights == weights && g_copies[i].bytes == bytes) {
            *fresh = 0;
            copy = g_copies[i].copy;
            goto done;
        }
    if (g_bytes + bytes > g_budget) goto done;
    if (g_count == g_capacity) {
        int64_t capacity = g_capacity ? 2 * g_capacity : 64;
        frozen_copy *grown = realloc(g_copies, (size_t)capacity * sizeof(frozen_copy));
        if (!grown) goto done;
        g_copies = grown;
        g_capacity = capacity;
    }
    if (posix_memalign(&copy, 64, bytes ? bytes : 64)) {
        copy = NULL;
        goto done;
    }
    g_copies[g_count++] = (frozen_copy){owner, weights, bytes, copy};
    g_bytes += bytes;
done:
    pthread_mutex_unlock(&g_lock);
    return copy;
}

static void clear_locked(void) {
    for (int64_t i = 0; i < g_count; i++) free(g_copies[i].copy);
    free(g_copies);
    g_copies = NULL;
    g_count = g_capacity = 0;
    g_bytes = 0;
}

void dk_frozen_clear(void) {
    pthread_mutex_lock(&g_lock);
    clear_locked();
    pthread_mutex_unlock(&g_lock);
}

void dk_weights_frozen_begin(size_t budget_bytes) {
    pthread_mutex_lock(&g_lock);
    if (g_depth++ == 0) g_budget = budget_bytes;
    pthread_mutex_unlock(&g_lock);
}

void dk_weights_frozen_end(void) {
    pthread_mutex_lock(&g_lock);
    if (g_depth > 0 && --g_depth == 0) clear_locked();
    pthread_mutex_unlock(&g_lock);
}
