// C wrappers over MPI for Swift (see mpi_shim.h): MPI_COMM_WORLD and MPI_FLOAT are macros.
#include "mpi_shim.h"
#include <limits.h>
#include <mpi.h>
#include <stdio.h>

void dmpi_error_string(int code, char *error, int capacity) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) snprintf(text, sizeof text, "MPI error %d", code);
    snprintf(error, (size_t)capacity, "%s", text);
}

int dmpi_init(char *error, int capacity) {
    int provided = 0;
    int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) { dmpi_error_string(rc, error, capacity); return rc; }
    return 0;
}

int dmpi_rank(void) { int r = 0; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
int dmpi_size(void) { int s = 1; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }

int dmpi_allreduce_sum_float(float *values, int64_t count) {
    // MPI counts are ints: reduce buffers past 2^31 floats in pieces.
    for (int64_t start = 0; start < count; start += INT_MAX / 2) {
        int64_t n = count - start < INT_MAX / 2 ? count - start : INT_MAX / 2;
        int rc = MPI_Allreduce(MPI_IN_PLACE, values + start, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return rc;
    }
    return 0;
}

int dmpi_allreduce_min_int(int *value) {
    return MPI_Allreduce(MPI_IN_PLACE, value, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
}

void dmpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
int dmpi_finalize(void) { return MPI_Finalize(); }
