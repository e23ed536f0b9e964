/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gemm.h - the two matrix products of a dense mini-batch step when the models' columns are few
 * (M = K x C up to GEMM_MAX_COLS): Z += X W (forward) and G = X^T dZ (backward), row-major.
 * OpenBLAS spends most of such a product packing and waking its threads (a 1000 x 100 batch
 * times 32 columns ran at 9 GFLOP/s on two cores); these kernels keep a block of rows (or of
 * features) times 32 columns in registers instead.
 *
 * Every output element is summed in one fixed order, with a separate multiply and add (no fused
 * multiply-add), so the AVX-512 kernels and the portable C ones give the same bits on every
 * x86-64 machine (cpu.h chooses), and splitting rows (forward) or features (backward) over threads
 * changes nothing: Z[i][m] = (((Z[i][m] + X[i][0] W[0][m]) + X[i][1] W[1][m]) + ...) + X[i][D-1]
 * W[D-1][m] G[j][m] = (((0 + X[0][j] dZ[0][m]) + X[1][j] dZ[1][m]) + ...) + X[n-1][j] dZ[n-1][m]
 */
#ifndef LL_GEMM_H
#define LL_GEMM_H
#include <stddef.h>

#define GEMM_MIN_COLS 8
#define GEMM_MAX_COLS 128

/* Z[i][0..M) += sum_j X[i][j] W[j][0..M) for rows [i0, i1); X is n x D, W is D x M. */
void gemm_xw(const float *X, const float *W, float *Z, size_t D, size_t M, size_t i0, size_t i1);
/* G[j][0..M) = sum_i X[i][j] dZ[i][0..M) over the n rows, for features [j0, j1). */
void gemm_xtd(const float *X, const float *dZ, float *G, size_t n, size_t D, size_t M, size_t j0,
              size_t j1);
#endif
