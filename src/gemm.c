/* SPDX-License-Identifier: Apache-2.0 */
/* gemm.c - register-blocked products of a dense batch with few columns (gemm.h): AVX-512
 * kernels chosen at run time, portable C kernels with the same order of operations. */
#include "gemm.h"
#include "cpu.h"
#include <string.h>
#ifdef LL_X86
#include <immintrin.h>
#endif

/* No fused multiply-add anywhere in this file: each product is rounded before its sum, as the
 * portable kernels do on a CPU without FMA. */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#define GEMM_NOFMA
#elif defined(__GNUC__)
#define GEMM_NOFMA __attribute__((optimize("fp-contract=off", "tree-vectorize")))
#else
#define GEMM_NOFMA
#endif

/* ---- portable kernels ---- */

#define CB 16 /* columns per block */

GEMM_NOFMA static void xw_c(const float *X, const float *W, float *Z, size_t D, size_t M, size_t i0,
                            size_t i1)
{
    for (size_t mb = 0; mb < M; mb += CB) {
        size_t w = M - mb < CB ? M - mb : CB;
        size_t i = i0;
        for (; i + 4 <= i1; i += 4) {
            float a[4][CB];
            for (int r = 0; r < 4; r++)
                memcpy(a[r], Z + (i + r) * M + mb, w * sizeof(float));
            const float *x = X + i * D;
            for (size_t j = 0; j < D; j++) {
                const float *wr = W + j * M + mb;
                float x0 = x[j], x1 = x[D + j], x2 = x[2 * D + j], x3 = x[3 * D + j];
                for (size_t m = 0; m < w; m++) {
                    float v = wr[m];
                    a[0][m] = a[0][m] + x0 * v;
                    a[1][m] = a[1][m] + x1 * v;
                    a[2][m] = a[2][m] + x2 * v;
                    a[3][m] = a[3][m] + x3 * v;
                }
            }
            for (int r = 0; r < 4; r++)
                memcpy(Z + (i + r) * M + mb, a[r], w * sizeof(float));
        }
        for (; i < i1; i++) {
            float *z = Z + i * M + mb;
            const float *x = X + i * D;
            for (size_t j = 0; j < D; j++) {
                const float *wr = W + j * M + mb;
                for (size_t m = 0; m < w; m++)
                    z[m] = z[m] + x[j] * wr[m];
            }
        }
    }
}

GEMM_NOFMA static void xtd_c(const float *X, const float *dZ, float *G, size_t n, size_t D,
                             size_t M, size_t j0, size_t j1)
{
    for (size_t mb = 0; mb < M; mb += CB) {
        size_t w = M - mb < CB ? M - mb : CB;
        size_t j = j0;
        for (; j + 4 <= j1; j += 4) {
            float a[4][CB];
            memset(a, 0, sizeof a);
            for (size_t i = 0; i < n; i++) {
                const float *d = dZ + i * M + mb, *x = X + i * D + j;
                float x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
                for (size_t m = 0; m < w; m++) {
                    float v = d[m];
                    a[0][m] = a[0][m] + x0 * v;
                    a[1][m] = a[1][m] + x1 * v;
                    a[2][m] = a[2][m] + x2 * v;
                    a[3][m] = a[3][m] + x3 * v;
                }
            }
            for (int f = 0; f < 4; f++)
                memcpy(G + (j + f) * M + mb, a[f], w * sizeof(float));
        }
        for (; j < j1; j++) {
            float a[CB];
            memset(a, 0, sizeof a);
            for (size_t i = 0; i < n; i++) {
                const float *d = dZ + i * M + mb;
                float x = X[i * D + j];
                for (size_t m = 0; m < w; m++)
                    a[m] = a[m] + x * d[m];
            }
            memcpy(G + j * M + mb, a, w * sizeof(float));
        }
    }
}

/* ---- AVX-512 kernels: 32 columns (two registers, the second masked or absent) ---- */

#ifdef LL_X86
#define INL static inline __attribute__((always_inline))

/* R rows of Z (H registers wide) += their X rows times W: R * H accumulators. */
LL_AVX512 INL void xw_blk(const float *X, const float *W, float *Z, size_t D, size_t M, size_t i,
                          size_t mb, __mmask16 k0, __mmask16 k1, int R, int H)
{
    __m512 a[8][2];
    for (int r = 0; r < R; r++) {
        a[r][0] = _mm512_maskz_loadu_ps(k0, Z + (i + r) * M + mb);
        if (H > 1)
            a[r][1] = _mm512_maskz_loadu_ps(k1, Z + (i + r) * M + mb + 16);
    }
    const float *x = X + i * D;
    for (size_t j = 0; j < D; j++) {
        const float *wr = W + j * M + mb;
        __m512 w0 = _mm512_maskz_loadu_ps(k0, wr), w1 = w0;
        if (H > 1)
            w1 = _mm512_maskz_loadu_ps(k1, wr + 16);
        for (int r = 0; r < R; r++) {
            __m512 xb = _mm512_set1_ps(x[(size_t)r * D + j]);
            a[r][0] = _mm512_add_ps(a[r][0], _mm512_mul_ps(xb, w0));
            if (H > 1)
                a[r][1] = _mm512_add_ps(a[r][1], _mm512_mul_ps(xb, w1));
        }
    }
    for (int r = 0; r < R; r++) {
        _mm512_mask_storeu_ps(Z + (i + r) * M + mb, k0, a[r][0]);
        if (H > 1)
            _mm512_mask_storeu_ps(Z + (i + r) * M + mb + 16, k1, a[r][1]);
    }
}

LL_AVX512 static void xw_cols(const float *X, const float *W, float *Z, size_t D, size_t M,
                              size_t i0, size_t i1, size_t mb, __mmask16 k0, __mmask16 k1, int H)
{
    size_t i = i0;
    if (H > 1) {
        for (; i + 8 <= i1; i += 8)
            xw_blk(X, W, Z, D, M, i, mb, k0, k1, 8, 2);
        for (; i + 4 <= i1; i += 4)
            xw_blk(X, W, Z, D, M, i, mb, k0, k1, 4, 2);
        for (; i < i1; i++)
            xw_blk(X, W, Z, D, M, i, mb, k0, k1, 1, 2);
    } else {
        for (; i + 8 <= i1; i += 8)
            xw_blk(X, W, Z, D, M, i, mb, k0, k1, 8, 1);
        for (; i + 4 <= i1; i += 4)
            xw_blk(X, W, Z, D, M, i, mb, k0, k1, 4, 1);
        for (; i < i1; i++)
            xw_blk(X, W, Z, D, M, i, mb, k0, k1, 1, 1);
    }
}

LL_AVX512 static void xw_avx512(const float *X, const float *W, float *Z, size_t D, size_t M,
                                size_t i0, size_t i1)
{
    for (size_t mb = 0; mb < M; mb += 32) {
        size_t w = M - mb < 32 ? M - mb : 32;
        xw_cols(X, W, Z, D, M, i0, i1, mb, cpu_lanes16(w), cpu_lanes16(w > 16 ? w - 16 : 0),
                w > 16 ? 2 : 1);
    }
}

/* F features' rows of G (H registers wide) = their X columns times dZ. */
LL_AVX512 INL void xtd_blk(const float *X, const float *dZ, float *G, size_t n, size_t D, size_t M,
                           size_t j, size_t mb, __mmask16 k0, __mmask16 k1, int F, int H)
{
    __m512 a[8][2];
    for (int f = 0; f < F; f++)
        a[f][0] = a[f][1] = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i++) {
        const float *d = dZ + i * M + mb, *x = X + i * D + j;
        __m512 d0 = _mm512_maskz_loadu_ps(k0, d), d1 = d0;
        if (H > 1)
            d1 = _mm512_maskz_loadu_ps(k1, d + 16);
        for (int f = 0; f < F; f++) {
            __m512 xb = _mm512_set1_ps(x[f]);
            a[f][0] = _mm512_add_ps(a[f][0], _mm512_mul_ps(xb, d0));
            if (H > 1)
                a[f][1] = _mm512_add_ps(a[f][1], _mm512_mul_ps(xb, d1));
        }
    }
    for (int f = 0; f < F; f++) {
        _mm512_mask_storeu_ps(G + (j + f) * M + mb, k0, a[f][0]);
        if (H > 1)
            _mm512_mask_storeu_ps(G + (j + f) * M + mb + 16, k1, a[f][1]);
    }
}

LL_AVX512 static void xtd_cols(const float *X, const float *dZ, float *G, size_t n, size_t D,
                               size_t M, size_t j0, size_t j1, size_t mb, __mmask16 k0,
                               __mmask16 k1, int H)
{
    size_t j = j0;
    if (H > 1) {
        for (; j + 8 <= j1; j += 8)
            xtd_blk(X, dZ, G, n, D, M, j, mb, k0, k1, 8, 2);
        for (; j + 4 <= j1; j += 4)
            xtd_blk(X, dZ, G, n, D, M, j, mb, k0, k1, 4, 2);
        for (; j < j1; j++)
            xtd_blk(X, dZ, G, n, D, M, j, mb, k0, k1, 1, 2);
    } else {
        for (; j + 8 <= j1; j += 8)
            xtd_blk(X, dZ, G, n, D, M, j, mb, k0, k1, 8, 1);
        for (; j + 4 <= j1; j += 4)
            xtd_blk(X, dZ, G, n, D, M, j, mb, k0, k1, 4, 1);
        for (; j < j1; j++)
            xtd_blk(X, dZ, G, n, D, M, j, mb, k0, k1, 1, 1);
    }
}

LL_AVX512 static void xtd_avx512(const float *X, const float *dZ, float *G, size_t n, size_t D,
                                 size_t M, size_t j0, size_t j1)
{
    for (size_t mb = 0; mb < M; mb += 32) {
        size_t w = M - mb < 32 ? M - mb : 32;
        xtd_cols(X, dZ, G, n, D, M, j0, j1, mb, cpu_lanes16(w), cpu_lanes16(w > 16 ? w - 16 : 0),
                 w > 16 ? 2 : 1);
    }
}
#endif

/* ---- dispatch ---- */

void gemm_xw(const float *X, const float *W, float *Z, size_t D, size_t M, size_t i0, size_t i1)
{
#ifdef LL_X86
    if (cpu_avx512()) {
        xw_avx512(X, W, Z, D, M, i0, i1);
        return;
    }
#endif
    xw_c(X, W, Z, D, M, i0, i1);
}

void gemm_xtd(const float *X, const float *dZ, float *G, size_t n, size_t D, size_t M, size_t j0,
              size_t j1)
{
#ifdef LL_X86
    if (cpu_avx512()) {
        xtd_avx512(X, dZ, G, n, D, M, j0, j1);
        return;
    }
#endif
    xtd_c(X, dZ, G, n, D, M, j0, j1);
}
