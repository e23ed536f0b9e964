/* SPDX-License-Identifier: Apache-2.0 */
/* blas.c - the one process-wide setting of the matrix kernels (OpenBLAS's thread count). The
 * library never changes it by itself: the program decides (ll_blas_set_threads). */
#include "linlearn.h"

void openblas_set_num_threads(int num_threads);

void ll_blas_set_threads(int n)
{
    openblas_set_num_threads(n < 1 ? 1 : n);
}
