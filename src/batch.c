/* SPDX-License-Identifier: Apache-2.0 */
/* batch.c - the mini-batch container: rows appended in place into arrays that are reused from
 * one fill to the next, so a steady stream allocates nothing. */
#include "batch.h"
#include "err.h"
#include "mem.h"
#include <math.h>
#include <string.h>

void ll_batch_init(ll_batch *b)
{
    memset(b, 0, sizeof *b);
}

void ll_batch_deinit(ll_batch *b)
{
    if (!b)
        return;
    mem_free(b->val);
    mem_free(b->idx);
    mem_free(b->off);
    mem_free(b->dim);
    mem_free(b->sparse);
    mem_free(b->label);
    mem_free(b->loff);
    mem_free(b->weight);
    mem_free(b->src_line);
    mem_free(b->src_off);
    memset(b, 0, sizeof *b);
}

void ll_batch_clear(ll_batch *b)
{
    b->n_rows = 0;
    b->dense = 1;
    b->width = 0;
    b->n_sparse = 0;
    if (b->off)
        b->off[0] = 0;
    if (b->loff)
        b->loff[0] = 0;
}

static size_t grow_to(size_t cap, size_t need)
{
    size_t n = cap ? cap : 64;
    while (n < need)
        n = n * 2 < n ? need : n * 2;
    return n;
}

ll_code batch_reserve_rows(ll_batch *b, size_t rows, ll_err *err)
{
    if (rows + 1 <= b->cap_rows)
        return LL_OK;
    size_t n = grow_to(b->cap_rows, rows + 1);
    size_t *off = mem_realloc_array(b->off, n, sizeof *off);
    if (off)
        b->off = off;
    size_t *loff = mem_realloc_array(b->loff, n, sizeof *loff);
    if (loff)
        b->loff = loff;
    uint64_t *dim = mem_realloc_array(b->dim, n, sizeof *dim);
    if (dim)
        b->dim = dim;
    uint8_t *sp = mem_realloc_array(b->sparse, n, 1);
    if (sp)
        b->sparse = sp;
    float *w = mem_realloc_array(b->weight, n, sizeof *w);
    if (w)
        b->weight = w;
    uint64_t *sl = mem_realloc_array(b->src_line, n, sizeof *sl);
    if (sl)
        b->src_line = sl;
    uint64_t *so = mem_realloc_array(b->src_off, n, sizeof *so);
    if (so)
        b->src_off = so;
    if (!off || !loff || !dim || !sp || !w || !sl || !so)
        return err_set(err, LL_E_NOMEM, "cannot grow a batch to %zu rows", n);
    if (b->cap_rows == 0) {
        b->off[0] = 0;
        b->loff[0] = 0;
        b->dense = 1;
    }
    b->cap_rows = n;
    return LL_OK;
}

ll_code batch_reserve_vals(ll_batch *b, size_t n_vals, ll_err *err)
{
    if (n_vals <= b->cap_val)
        return LL_OK;
    size_t n = grow_to(b->cap_val, n_vals);
    float *v = mem_realloc_array(b->val, n, sizeof *v);
    if (v)
        b->val = v;
    uint32_t *ix = mem_realloc_array(b->idx, n, sizeof *ix);
    if (ix)
        b->idx = ix;
    if (!v || !ix)
        return err_set(err, LL_E_NOMEM, "cannot grow a batch to %zu values", n);
    b->cap_val = n;
    return LL_OK;
}

ll_code batch_reserve_labels(ll_batch *b, size_t n_labels, ll_err *err)
{
    if (n_labels <= b->cap_label)
        return LL_OK;
    size_t n = grow_to(b->cap_label, n_labels);
    float *l = mem_realloc_array(b->label, n, sizeof *l);
    if (!l)
        return err_set(err, LL_E_NOMEM, "cannot grow a batch to %zu labels", n);
    b->label = l;
    b->cap_label = n;
    return LL_OK;
}

/* Whether every value is finite: a branch-free pass the compiler vectorises (an exponent of
 * all ones, NaN or infinity, carries into bit 31 when 2^23 is added to it). */
#if defined(__GNUC__) && !defined(__clang__)
#define BATCH_VEC __attribute__((optimize("tree-vectorize")))
#else
#define BATCH_VEC
#endif
BATCH_VEC static int all_finite(const float *v, size_t k0, size_t k1)
{
    uint32_t acc = 0;
    for (size_t k = k0; k < k1; k++) {
        uint32_t u;
        memcpy(&u, &v[k], sizeof u);
        acc |= (u & 0x7f800000u) + 0x00800000u;
    }
    return !(acc & 0x80000000u);
}

int batch_row_nonfinite(const ll_batch *b, size_t i, size_t *at, int *is_label, float *v)
{
    if (all_finite(b->val, b->off[i], b->off[i + 1]) &&
        all_finite(b->label, b->loff[i], b->loff[i + 1]))
        return 0;
    for (size_t k = b->off[i]; k < b->off[i + 1]; k++)
        if (!isfinite(b->val[k])) {
            *at = k - b->off[i];
            *is_label = 0;
            *v = b->val[k];
            return 1;
        }
    for (size_t k = b->loff[i]; k < b->loff[i + 1]; k++)
        if (!isfinite(b->label[k])) {
            *at = k - b->loff[i];
            *is_label = 1;
            *v = b->label[k];
            return 1;
        }
    return 0;
}

ll_code batch_nonfinite_error(const ll_batch *b, size_t i, ll_err *err)
{
    size_t at = 0;
    int lab = 0;
    float v = 0;
    batch_row_nonfinite(b, i, &at, &lab, &v);
    unsigned long long col = b->sparse[i] && !lab ? b->idx[b->off[i] + at] : at;
    return err_set(err, LL_E_PARSE,
                   "expected finite numbers, found %s in %s %llu (NaN and infinity are refused in "
                   "training data)",
                   isnan(v) ? "NaN"
                   : v > 0  ? "+infinity"
                            : "-infinity",
                   lab            ? "label"
                   : b->sparse[i] ? "feature index"
                                  : "feature",
                   col);
}

void batch_commit_row(ll_batch *b, size_t n_vals, uint64_t dim, int sparse, size_t n_labels)
{
    size_t i = b->n_rows;
    b->off[i + 1] = b->off[i] + n_vals;
    b->loff[i + 1] = b->loff[i] + n_labels;
    b->dim[i] = dim;
    b->sparse[i] = (uint8_t)sparse;
    b->weight[i] = 1.0f;
    b->src_line[i] = 0;
    b->src_off[i] = 0;
    if (sparse) {
        b->n_sparse++;
        b->dense = 0;
        if (dim > b->width)
            b->width = dim;
    } else if (i == 0 || (b->dense && dim == b->width)) {
        b->width = dim;
    } else {
        b->dense = 0;
        if (dim > b->width)
            b->width = dim;
    }
    b->n_rows = i + 1;
}

ll_code ll_batch_add_row(ll_batch *b, const float *vals, const uint32_t *idx, size_t n,
                         uint64_t dim, const float *labels, size_t n_labels, ll_err *err)
{
    if (!idx && dim != n)
        return err_set(err, LL_E_ARG, "a dense row of %zu values cannot have dimension %llu", n,
                       (unsigned long long)dim);
    if (idx)
        for (size_t k = 0; k < n; k++)
            if (idx[k] >= dim)
                return err_set(err, LL_E_ARG, "column %u is outside the row's dimension %llu",
                               idx[k], (unsigned long long)dim);
    ll_code rc = batch_reserve_rows(b, b->n_rows + 1, err);
    if (rc == LL_OK)
        rc = batch_reserve_vals(b, b->off[b->n_rows] + n, err);
    if (rc == LL_OK)
        rc = batch_reserve_labels(b, b->loff[b->n_rows] + n_labels, err);
    if (rc != LL_OK)
        return rc;
    size_t o = b->off[b->n_rows];
    if (n)
        memcpy(b->val + o, vals, n * sizeof *vals);
    if (idx && n)
        memcpy(b->idx + o, idx, n * sizeof *idx);
    if (n_labels)
        memcpy(b->label + b->loff[b->n_rows], labels, n_labels * sizeof *labels);
    batch_commit_row(b, n, dim, idx != NULL, n_labels);
    return LL_OK;
}

ll_code batch_append_rows(ll_batch *dst, const ll_batch *src, size_t from, size_t to,
                          uint64_t line_add, uint64_t dim_floor, ll_err *err)
{
    if (from >= to)
        return LL_OK;
    const size_t n0 = dst->n_rows, v0 = src->off[from], nv = src->off[to] - v0;
    const size_t l0 = src->loff[from], nl = src->loff[to] - l0;
    ll_code rc = batch_reserve_rows(dst, n0 + (to - from), err);
    if (rc == LL_OK)
        rc = batch_reserve_vals(dst, dst->off[n0] + nv, err);
    if (rc == LL_OK)
        rc = batch_reserve_labels(dst, dst->loff[n0] + nl, err);
    if (rc != LL_OK)
        return rc;
    const size_t dv = dst->off[n0], dl = dst->loff[n0];
    if (nv)
        memcpy(dst->val + dv, src->val + v0, nv * sizeof *src->val);
    if (nv && src->n_sparse)
        memcpy(dst->idx + dv, src->idx + v0, nv * sizeof *src->idx);
    if (nl)
        memcpy(dst->label + dl, src->label + l0, nl * sizeof *src->label);
    for (size_t i = from; i < to; i++) {
        uint64_t dim = src->dim[i];
        if (src->sparse[i] && dim < dim_floor)
            dim = dim_floor;
        batch_commit_row(dst, src->off[i + 1] - src->off[i], dim, src->sparse[i],
                         src->loff[i + 1] - src->loff[i]);
        size_t k = dst->n_rows - 1;
        dst->weight[k] = src->weight[i];
        dst->src_line[k] = src->src_line[i] ? src->src_line[i] + line_add : 0;
        dst->src_off[k] = src->src_off[i];
    }
    return LL_OK;
}
