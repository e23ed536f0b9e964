/* SPDX-License-Identifier: Apache-2.0 */
/* test_gemm.c - the dense batch products (gemm.h): the AVX-512 and portable kernels give the
 * same bits, any split of the rows or features gives the same bits, the stated summation order
 * holds exactly, and the results agree with OpenBLAS's sgemm and with double-precision sums. */
#include "cpu.h"
#include "gemm.h"
#include "tt.h"
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ull;

static float frand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2 - 1);
}

static float *fill(size_t n, int zeros)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = zeros && i % 7 == 3 ? 0.0f : frand();
    return p;
}

/* The stated order, one element at a time. */
static void xw_ref(const float *X, const float *W, float *Z, size_t n, size_t D, size_t M)
{
    for (size_t i = 0; i < n; i++)
        for (size_t m = 0; m < M; m++) {
            volatile float a = Z[i * M + m];
            for (size_t j = 0; j < D; j++) {
                volatile float p = X[i * D + j] * W[j * M + m];
                a = a + p;
            }
            Z[i * M + m] = a;
        }
}

static void xtd_ref(const float *X, const float *dZ, float *G, size_t n, size_t D, size_t M)
{
    for (size_t j = 0; j < D; j++)
        for (size_t m = 0; m < M; m++) {
            volatile float a = 0.0f;
            for (size_t i = 0; i < n; i++) {
                volatile float p = X[i * D + j] * dZ[i * M + m];
                a = a + p;
            }
            G[j * M + m] = a;
        }
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

/* the largest |a - b| / (1 + |ref|) */
static double rel_gap(const float *a, const float *b, size_t n)
{
    double g = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (1 + fabs((double)b[i]));
        g = d > g ? d : g;
    }
    return g;
}

static void one_shape(size_t n, size_t D, size_t M)
{
    float *X = fill(n * D, 1), *W = fill(D * M, 0), *Z0 = fill(n * M, 0), *dZ = fill(n * M, 0);
    size_t zn = n * M, gn = D * M;
    float *za = malloc(zn * 4 + 4), *zc = malloc(zn * 4 + 4), *zr = malloc(zn * 4 + 4),
          *zb = malloc(zn * 4 + 4), *zs = malloc(zn * 4 + 4);
    float *ga = malloc(gn * 4 + 4), *gc = malloc(gn * 4 + 4), *gr = malloc(gn * 4 + 4),
          *gb = malloc(gn * 4 + 4), *gs = malloc(gn * 4 + 4);
    memcpy(za, Z0, zn * 4);
    memcpy(zc, Z0, zn * 4);
    memcpy(zr, Z0, zn * 4);
    memcpy(zb, Z0, zn * 4);
    memcpy(zs, Z0, zn * 4);
    int had = cpu_set_avx512(1);
    gemm_xw(X, W, za, D, M, 0, n);
    gemm_xtd(X, dZ, ga, n, D, M, 0, D);
    /* split at odd places: rows in three calls, features in two */
    size_t r1 = n / 3, r2 = n - n / 5;
    gemm_xw(X, W, zs, D, M, 0, r1);
    gemm_xw(X, W, zs, D, M, r1, r2);
    gemm_xw(X, W, zs, D, M, r2, n);
    gemm_xtd(X, dZ, gs, n, D, M, 0, D / 3);
    gemm_xtd(X, dZ, gs, n, D, M, D / 3, D);
    cpu_set_avx512(0);
    gemm_xw(X, W, zc, D, M, 0, n);
    gemm_xtd(X, dZ, gc, n, D, M, 0, D);
    cpu_set_avx512(had);
    xw_ref(X, W, zr, n, D, M);
    xtd_ref(X, dZ, gr, n, D, M);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)M, (int)D, 1.0f, X, (int)D,
                W, (int)M, 1.0f, zb, (int)M);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)D, (int)M, (int)n, 1.0f, X, (int)D,
                dZ, (int)M, 0.0f, gb, (int)M);
    CHECKF(same_bits(za, zc, zn), "n=%zu D=%zu M=%zu: forward AVX-512 and portable differ", n, D,
           M);
    CHECKF(same_bits(zc, zr, zn), "n=%zu D=%zu M=%zu: forward is not in the stated order", n, D, M);
    CHECKF(same_bits(za, zs, zn), "n=%zu D=%zu M=%zu: forward depends on the row split", n, D, M);
    CHECKF(same_bits(ga, gc, gn), "n=%zu D=%zu M=%zu: backward AVX-512 and portable differ", n, D,
           M);
    CHECKF(same_bits(gc, gr, gn), "n=%zu D=%zu M=%zu: backward is not in the stated order", n, D,
           M);
    CHECKF(same_bits(ga, gs, gn), "n=%zu D=%zu M=%zu: backward depends on the feature split", n, D,
           M);
    /* beside OpenBLAS: float sums of D (or n) terms of size ~1 */
    double tz = 4e-7 * (D + 1), tg = 4e-7 * (n + 1);
    double ez = rel_gap(za, zb, zn), eg = rel_gap(ga, gb, gn);
    CHECKF(ez <= tz, "n=%zu D=%zu M=%zu: forward %.3g from sgemm", n, D, M, ez);
    CHECKF(eg <= tg, "n=%zu D=%zu M=%zu: backward %.3g from sgemm", n, D, M, eg);
    free(X), free(W), free(Z0), free(dZ);
    free(za), free(zc), free(zr), free(zb), free(zs);
    free(ga), free(gc), free(gr), free(gb), free(gs);
}

static void test_shapes(void)
{
    /* every column remainder of one and two registers, row and feature blocks of 8, 4, 1 */
    size_t Ms[] = {1, 5, 8, 15, 16, 17, 31, 32, 33, 48, 64, 70, 128};
    size_t ns[] = {1, 3, 4, 9, 13, 100};
    size_t Ds[] = {1, 2, 7, 8, 13, 100};
    for (size_t a = 0; a < sizeof Ms / sizeof *Ms; a++)
        for (size_t b = 0; b < sizeof ns / sizeof *ns; b++)
            for (size_t c = 0; c < sizeof Ds / sizeof *Ds; c++)
                one_shape(ns[b], Ds[c], Ms[a]);
    one_shape(1000, 100, 32); /* the benchmark's batch */
}

/* Special values go through both kernels alike (the masked lanes do not leak into the result). */
static void test_special(void)
{
    size_t n = 9, D = 5, M = 19;
    float *X = fill(n * D, 0), *W = fill(D * M, 0), *dZ = fill(n * M, 0);
    X[3] = INFINITY;
    X[7] = -0.0f;
    W[4] = NAN;
    dZ[11] = -INFINITY;
    float za[9 * 19] = {0}, zc[9 * 19] = {0}, ga[5 * 19], gc[5 * 19];
    int had = cpu_set_avx512(1);
    gemm_xw(X, W, za, D, M, 0, n);
    gemm_xtd(X, dZ, ga, n, D, M, 0, D);
    cpu_set_avx512(0);
    gemm_xw(X, W, zc, D, M, 0, n);
    gemm_xtd(X, dZ, gc, n, D, M, 0, D);
    cpu_set_avx512(had);
    CHECK(same_bits(za, zc, n * M));
    CHECK(same_bits(ga, gc, D * M));
    CHECK(isnan(za[4])); /* row 0 meets W[0][4] = NaN */
    CHECK(isinf(za[0 * M + 1]) || isnan(za[0 * M + 1]));
    free(X), free(W), free(dZ);
}

/* The comparisons of the two kernels mean something only where the CPU has AVX-512F. */
static void test_avx512_here(void)
{
    int had = cpu_set_avx512(1);
    int on = cpu_set_avx512(had);
    if (!on)
        SKIP("this CPU has no AVX-512F: the shape tests compared the portable kernels only");
    CHECK(on == 1);
}

int main(void)
{
    TT_BEGIN("test_gemm");
    RUN(test_avx512_here);
    RUN(test_shapes);
    RUN(test_special);
    TT_END();
}
