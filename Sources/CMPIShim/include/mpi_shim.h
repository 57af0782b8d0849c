// The few MPI calls data-parallel training makes, as plain C functions: Open MPI's
// communicators and datatypes are macros over globals, which Swift cannot import.
#ifndef DIFFUSE_MPI_SHIM_H
#define DIFFUSE_MPI_SHIM_H
#include <stdint.h>

/// MPI_Init_thread (funneled: only the main thread calls MPI). 0 on success; on failure
/// the message goes to `error` (NUL-terminated, at most `capacity` bytes).
int dmpi_init(char *error, int capacity);
int dmpi_rank(void);
int dmpi_size(void);
/// In place: every rank's `count` floats become their sum over ranks (chunked under INT_MAX).
int dmpi_allreduce_sum_float(float *values, int64_t count);
/// In place: `*value` becomes the minimum over ranks.
int dmpi_allreduce_min_int(int *value);
/// Ends every rank of the job with `code` (never returns).
void dmpi_abort(int code);
int dmpi_finalize(void);
/// The text of an MPI error code.
void dmpi_error_string(int code, char *error, int capacity);
#endif
