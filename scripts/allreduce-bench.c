// Measures MPI_Allreduce (sum, float, in place) on the gradient sizes of Diffuse's models:
// run by scripts/bench-mpi.sh under mpirun; rank 0 prints one JSON line per size.
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    // The default VAE (2,606,887 parameters) and U-Net + text encoder (35,722,372), plus two sizes between.
    const long counts[] = {2606888, 8000000, 20000000, 35722373};
    for (int c = 0; c < 4; c++) {
        long n = counts[c];
        float *buffer = malloc((size_t)n * sizeof(float));
        if (!buffer) MPI_Abort(MPI_COMM_WORLD, 1);
        for (long i = 0; i < n; i++) buffer[i] = 1e-3f * (float)(i % 1000);
        int repeats = argc > 1 ? atoi(argv[1]) : 10;
        MPI_Allreduce(MPI_IN_PLACE, buffer, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);  // warm-up
        double best = 1e30, total = 0;
        for (int r = 0; r < repeats; r++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double start = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, buffer, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            double t = MPI_Wtime() - start;
            total += t;
            if (t < best) best = t;
        }
        if (rank == 0)
            printf("{\"ranks\": %d, \"floats\": %ld, \"MB\": %.2f, \"best_ms\": %.2f, \"mean_ms\": %.2f, \"algbw_MBps\": %.0f}\n",
                   size, n, n * 4e-6, best * 1e3, total / repeats * 1e3, n * 4e-6 / (total / repeats));
        free(buffer);
    }
    MPI_Finalize();
    return 0;
}
