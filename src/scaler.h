/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scaler.h - the streaming pre-pass (spec §1.2-1.3): per-feature mean and standard deviation,
 * label mean/std and class counts from the first num_point_for_scaler rows, and the resulting
 * transform x' = (x - mu) * sc, y' = (y - ymu) / ysd used during training.
 */
#ifndef LL_SCALER_H
#define LL_SCALER_H
#include "hp.h"

typedef struct scaler {
    uint64_t D;                /* features seen (largest dim) */
    double *sum, *sumsq, *nnz; /* per feature, over rows */
    size_t cap;
    double n; /* rows */
    int all_dense;
    double ysum, yysum;
    double *cls; /* class counts (binary: 2, multiclass: num_classes) */
    uint32_t n_cls;
    /* results (scaler_finish) */
    float *mu, *sc; /* mu NULL when no shift */
    double ymu, ysd;
    int shift;
} scaler;

ll_code scaler_init(scaler *s, uint32_t n_cls, ll_err *err);
void scaler_deinit(scaler *s);
/* Adds up to `limit` rows of b (labels y already mapped). Returns the number taken. */
ll_code scaler_add(scaler *s, const ll_batch *b, const float *y, size_t limit, ll_err *err);
/* Room for statistics of d features (zeros), e.g. before summing them over the hosts. */
ll_code scaler_grow(scaler *s, uint64_t d, ll_err *err);
/* Computes the transform for D features from hv's normalize/unbias settings. */
ll_code scaler_finish(scaler *s, const hp_values *hv, uint64_t D, ll_err *err);
#endif
