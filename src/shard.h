/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shard.h - what each host trains on and how the hosts' partial results become the one result
 * a single process would have (docs/DISTRIBUTED.md): the record split of a mini-batch, and the
 * sums and gathers of scaler statistics, metrics and sampled scores over the hosts (dist.h).
 */
#ifndef LL_SHARD_H
#define LL_SHARD_H
#include "metrics.h"
#include "scaler.h"

/* Host `rank` of n's rows of a global mini-batch of rows rows: [*lo, *hi), contiguous, sizes
 * differing by at most one, every row in exactly one host's slice. */
void shard_range(size_t rows, int rank, int n, size_t *lo, size_t *hi);

/* Keeps rows [lo, hi) of b in place (values, indices, labels, weights, dims), and of y when
 * not NULL. */
void shard_slice(ll_batch *b, float *y, size_t lo, size_t hi);

/* Sums the hosts' scaler statistics (feature sums and squares, counts, labels, classes; the
 * largest dimension; dense only when every host's rows were) so that every host holds the
 * statistics of all their rows. */
ll_code shard_sum_scaler(scaler *s, ll_err *err);

/* Sums the hosts' metrics accumulators; binary scores kept for the AUC are gathered. */
ll_code shard_sum_metrics(metrics *m, ll_err *err);

/* Rows of P floats with a sort key each: every host's rows are gathered, ordered by key, and
 * the first *n (at most cap) replace rows/keys on every host. rows holds cap * P floats. */
ll_code shard_merge_rows(uint64_t *keys, float *rows, size_t P, size_t *n, size_t cap, ll_err *err);
#endif
