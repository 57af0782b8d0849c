// Internal: branch-free float math (exp, sigmoid, erfc) written so clang vectorises loops using it.
#ifndef DK_MATH_H
#define DK_MATH_H
#include <math.h>
#include <stdint.h>
#include <string.h>

#define DK_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
// Forced inline: left to itself clang keeps the reductions below out of line, so a DK_HOT
// clone called their baseline (SSE2) build instead of vectorising them for its own target.
#define DK_INLINE static inline __attribute__((always_inline))

// float -> bfloat16 bits, round to nearest even as PyTorch, oneDNN and vcvtneps2bf16 (which
// also flushes denormals); a NaN stays a (quiet) NaN.
DK_INLINE uint16_t dk_bf16_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u | 0x00400000u) >> 16);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// exp(x) to ~2 ulp on [-87, 88] (Cephes expf), flushing below to ~1e-38 and clamping above.
DK_INLINE float dk_exp(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = rintf(x * 1.44269504088896341f);
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float z = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * z + r + 1.0f;
    int32_t e = ((int32_t)n + 127) << 23;
    float s;
    memcpy(&s, &e, sizeof s);
    return p * s;
}

DK_INLINE float dk_sigmoid(float x) { return 1.0f / (1.0f + dk_exp(-x)); }

// erfc(|x|) with relative error < 1.2e-7 (Numerical Recipes erfcc, Chebyshev fit).
DK_INLINE float dk_erfc_abs(float x) {
    float z = fabsf(x);
    float t = 1.0f / (1.0f + 0.5f * z);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    return t * dk_exp(-z * z + p);
}

// Standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2.
DK_INLINE float dk_phi(float x) {
    float h = 0.5f * dk_erfc_abs(x * 0.70710678118654752f);
    return x >= 0.0f ? 1.0f - h : h;
}

// Reductions with 32 independent lanes combined in a fixed order: clang vectorises them
// without fast-math, and the result never depends on threads.
#define DK_LANES 32

DK_INLINE float dk_sum(const float *restrict a, int64_t n) {
    float acc[DK_LANES] = {0};
    int64_t i = 0;
    for (; i + DK_LANES <= n; i += DK_LANES)
        for (int j = 0; j < DK_LANES; j++) acc[j] += a[i + j];
    float s = 0.0f;
    for (; i < n; i++) s += a[i];
    for (int j = 0; j < DK_LANES; j++) s += acc[j];
    return s;
}

DK_INLINE float dk_dot(const float *restrict a, const float *restrict b, int64_t n) {
    float acc[DK_LANES] = {0};
    int64_t i = 0;
    for (; i + DK_LANES <= n; i += DK_LANES)
        for (int j = 0; j < DK_LANES; j++) acc[j] += a[i + j] * b[i + j];
    float s = 0.0f;
    for (; i < n; i++) s += a[i] * b[i];
    for (int j = 0; j < DK_LANES; j++) s += acc[j];
    return s;
}

DK_INLINE float dk_max(const float *restrict a, int64_t n) {
    float acc[DK_LANES];
    for (int j = 0; j < DK_LANES; j++) acc[j] = -INFINITY;
    int64_t i = 0;
    for (; i + DK_LANES <= n; i += DK_LANES)
        for (int j = 0; j < DK_LANES; j++) acc[j] = a[i + j] > acc[j] ? a[i + j] : acc[j];
    float m = -INFINITY;
    for (; i < n; i++) m = a[i] > m ? a[i] : m;
    for (int j = 0; j < DK_LANES; j++) m = acc[j] > m ? acc[j] : m;
    return m;
}

// Sum of (a - c)^2: the second pass of a two-pass variance.
DK_INLINE float dk_sumsq_centered(const float *restrict a, float c, int64_t n) {
    float acc[DK_LANES] = {0};
    int64_t i = 0;
    for (; i + DK_LANES <= n; i += DK_LANES)
        for (int j = 0; j < DK_LANES; j++) {
            float d = a[i + j] - c;
            acc[j] += d * d;
        }
    float s = 0.0f;
    for (; i < n; i++) s += (a[i] - c) * (a[i] - c);
    for (int j = 0; j < DK_LANES; j++) s += acc[j];
    return s;
}

// Sum of g * (x - c): a gradient dotted with centred inputs.
DK_INLINE float dk_dot_centered(const float *restrict g, const float *restrict x, float c, int64_t n) {
    float acc[DK_LANES] = {0};
    int64_t i = 0;
    for (; i + DK_LANES <= n; i += DK_LANES)
        for (int j = 0; j < DK_LANES; j++) acc[j] += g[i + j] * (x[i + j] - c);
    float s = 0.0f;
    for (; i < n; i++) s += g[i] * (x[i] - c);
    for (int j = 0; j < DK_LANES; j++) s += acc[j];
    return s;
}

// Sum of a * b * c.
DK_INLINE float dk_dot3(const float *restrict a, const float *restrict b, const float *restrict c,
                            int64_t n) {
    float acc[DK_LANES] = {0};
    int64_t i = 0;
    for (; i + DK_LANES <= n; i += DK_LANES)
        for (int j = 0; j < DK_LANES; j++) acc[j] += a[i + j] * b[i + j] * c[i + j];
    float s = 0.0f;
    for (; i < n; i++) s += a[i] * b[i] * c[i];
    for (int j = 0; j < DK_LANES; j++) s += acc[j];
    return s;
}

#endif
