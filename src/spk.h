/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spk.h - the row kernels of a sparse step with M columns (M = K x C model outputs; sgd.c):
 * the forward pass of CSR rows, a feature's gradient gathered from its entries of the batch
 * (the batch transposed: rows and scaled values per feature, in row order), and the adam
 * update of one row of weights.
 *
 * Each kernel has a portable form and an AVX-512 form (cpu.h chooses at run time) that do the
 * same float operations in the same order, with no fused multiply-add, so the choice changes
 * speed, never a result:
 *   forward  Z[i][m] = ((B[m] + x_0 W[j_0][m]) + x_1 W[j_1][m]) + ...,  x_k = val[k] sc[j_k]
 *   gather   g[m] = ((0 + x_0 dZ[r_0][m]) + x_1 dZ[r_1][m]) + ...,   x_e = v[e] scale
 *   adam     g' = G + wd W; m1 = b1 m1 + (1 - b1) g'; m2 = b2 m2 + ((1 - b2) g') g';
 *            W = W - (st m1) / (sqrt(m2) + eps), then the L1 shrink of W by l1
 */
#ifndef LL_SPK_H
#define LL_SPK_H
#include <stddef.h>
#include <stdint.h>

/* Rows [i0, i1) of the CSR batch (idx, val, off) into Z (row i at Z + i M); W is D x M, sc the
 * per-feature scale, B the M biases. */
void spk_forward(const float *W, const float *B, size_t M, const uint32_t *idx, const float *val,
                 const size_t *off, const float *sc, size_t i0, size_t i1, float *Z);

/* g[0..M) = the sum over the n entries e, in order, of (v[e] scale) dZ[row[e]][0..M): one
 * feature's gradient, its values v in its rows of the batch, scale its feature scale. */
void spk_gather(const float *dZ, size_t M, const uint32_t *row, const float *v, float scale,
                size_t n, float *g);

/* The adam update of M columns: weights W, gradient G, moments m1 and m2, per-column step st
 * and L2 wd; b1, b2 the moments' decay rates, eps added to the root. Then, unless l1 is NULL,
 * the proximal L1 step: W = W - l1 when W > l1, W + l1 when W < -l1, else 0. */
void spk_adam(size_t M, float *W, const float *G, float *m1, float *m2, const float *st,
              const float *wd, const float *l1, float b1, float b2, float eps);
#endif
