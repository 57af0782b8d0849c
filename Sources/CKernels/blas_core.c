// OpenBLAS (a DYNAMIC_ARCH build) chooses its kernels once, when it loads, from the CPU's
// family and model numbers. Debian's 0.3.21 does not know some newer Xeons (or the generic
// model a VM reports for them) and falls back to the SSE3 "Prescott" kernels: sgemm ran at
// 54 GFLOP/s there instead of 227 on two cores of an AVX-512 Xeon. When that happens, this
// chooses again from the CPU's feature flags, as OPENBLAS_CORETYPE would have at load.
#include "CKernels.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern char *openblas_get_corename(void);
extern void gotoblas_dynamic_init(void);
extern void gotoblas_dynamic_quit(void);

// The kernel sets OpenBLAS picks when it does not recognise the CPU.
static int is_generic_core(const char *name) {
    static const char *generic[] = {"Unknown", "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom"};
    for (size_t i = 0; i < sizeof generic / sizeof *generic; i++) {
        if (!strcasecmp(name, generic[i])) return 1;
    }
    return 0;
}

// The best OpenBLAS kernel set the CPU's features allow (NULL: nothing better than SSE3).
static const char *best_core_for_features(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
    return NULL;
}

const char *dk_blas_core(void) { return openblas_get_corename(); }

// Runs after OpenBLAS's own initialiser (a library's initialisers run before its users'),
// before any BLAS call. A core the user forced with OPENBLAS_CORETYPE is left alone.
__attribute__((constructor)) static void dk_choose_blas_core(void) {
    if (getenv("OPENBLAS_CORETYPE")) return;
    const char *best = best_core_for_features();
    if (!best || !is_generic_core(openblas_get_corename())) return;
    setenv("OPENBLAS_CORETYPE", best, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
}
