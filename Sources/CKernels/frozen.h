// Internal: the kept weight copies of a frozen-weights scope, for conv.c and matmul.c.
#ifndef DK_FROZEN_H
#define DK_FROZEN_H
#include <stddef.h>

/// The kept copy of `weights` for `owner` (a primitive, or a layout tag), `bytes` long and
/// allocated on first use; NULL outside a frozen scope or over its budget (the caller then
/// converts into a buffer of its own). *fresh: the copy is new and must be filled.
void *dk_frozen_copy(const void *owner, const void *weights, size_t bytes, int *fresh);

/// Frees every kept copy (the primitives they belong to are going away).
void dk_frozen_clear(void);
#endif
