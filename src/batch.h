/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batch.h - in-place filling of ll_batch for parsers. A parser reserves room, writes the row's
 * values (and column indices for a sparse row) at val/idx + off[n_rows] and its labels at
 * label + loff[n_rows], then commits the row.
 */
#ifndef LL_BATCH_H
#define LL_BATCH_H
#include "linlearn.h"

/* Room for `rows` rows in total (off/loff/dim/sparse/weight arrays). */
ll_code batch_reserve_rows(ll_batch *b, size_t rows, ll_err *err);
/* Room for n_vals values (and indices) in total. */
ll_code batch_reserve_vals(ll_batch *b, size_t n_vals, ll_err *err);
/* Room for n_labels labels in total. */
ll_code batch_reserve_labels(ll_batch *b, size_t n_labels, ll_err *err);
/* Ends the row whose values were written at off[n_rows]; sets its weight to 1. */
void batch_commit_row(ll_batch *b, size_t n_vals, uint64_t dim, int sparse, size_t n_labels);
/* Appends rows [from, to) of src to dst as they are, except that a src_line that is not 0 gets
 * line_add added and a sparse row's dim is raised to dim_floor when below it (the parallel text
 * parser's chunks, parse_mt.c, counted lines and LIBSVM's running dimension from their own
 * start). */
ll_code batch_append_rows(ll_batch *dst, const ll_batch *src, size_t from, size_t to,
                          uint64_t line_add, uint64_t dim_floor, ll_err *err);
/* Whether row i holds a NaN or an infinity: 0 if not; else 1 with *at the value's position in
 * the row (or the label's, with *is_label set) and *v the value. */
int batch_row_nonfinite(const ll_batch *b, size_t i, size_t *at, int *is_label, float *v);
/* Sets err (LL_E_PARSE) for row i of b holding a non-finite value (batch_row_nonfinite); the
 * caller adds the location. Returns LL_E_PARSE. */
ll_code batch_nonfinite_error(const ll_batch *b, size_t i, ll_err *err);
#endif
