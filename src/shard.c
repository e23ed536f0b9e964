/* SPDX-License-Identifier: Apache-2.0 */
/*
 * shard.c - splitting mini-batches by record over the hosts and combining the hosts' scaler
 * statistics, metrics and sampled scores (shard.h). The collectives are dist.c's; with one
 * host every function leaves its input as it is.
 */
#include "shard.h"
#include "dist.h"
#include "err.h"
#include "mem.h"
#include <stdlib.h>
#include <string.h>

void shard_range(size_t rows, int rank, int n, size_t *lo, size_t *hi)
{
    size_t q = rows / (size_t)n, rem = rows % (size_t)n, r = (size_t)rank;
    *lo = r * q + (r < rem ? r : rem);
    *hi = *lo + q + (r < rem ? 1 : 0);
}

void shard_slice(ll_batch *b, float *y, size_t lo, size_t hi)
{
    if (hi > b->n_rows)
        hi = b->n_rows;
    if (lo > hi)
        lo = hi;
    size_t m = hi - lo;
    if (lo == 0 && m == b->n_rows)
        return;
    if (!b->off) {
        b->n_rows = 0;
        return;
    }
    size_t v0 = b->off[lo], v1 = b->off[hi], l0 = b->loff[lo], l1 = b->loff[hi];
    if (v1 > v0) {
        memmove(b->val, b->val + v0, (v1 - v0) * sizeof *b->val);
        if (b->idx)
            memmove(b->idx, b->idx + v0, (v1 - v0) * sizeof *b->idx);
    }
    if (l1 > l0)
        memmove(b->label, b->label + l0, (l1 - l0) * sizeof *b->label);
    for (size_t i = 0; i <= m; i++) {
        b->off[i] = b->off[lo + i] - v0;
        b->loff[i] = b->loff[lo + i] - l0;
    }
    memmove(b->dim, b->dim + lo, m * sizeof *b->dim);
    memmove(b->sparse, b->sparse + lo, m);
    memmove(b->weight, b->weight + lo, m * sizeof *b->weight);
    if (y)
        memmove(y, y + lo, m * sizeof *y);
    b->n_rows = m;
    b->n_sparse = 0;
    b->width = 0;
    int dense = 1;
    for (size_t i = 0; i < m; i++) {
        b->n_sparse += b->sparse[i] != 0;
        if (b->sparse[i] || b->dim[i] != b->dim[0])
            dense = 0;
        if (b->dim[i] > b->width)
            b->width = b->dim[i];
    }
    b->dense = dense;
}

ll_code shard_sum_scaler(scaler *s, ll_err *err)
{
    if (!dist_on())
        return LL_OK;
    uint64_t mx[2] = {s->D, s->all_dense ? 0 : 1};
    ll_code rc = dist_max_u64(mx, 2, err);
    if (rc == LL_OK)
        rc = scaler_grow(s, mx[0], err);
    if (rc != LL_OK)
        return rc;
    s->D = mx[0];
    s->all_dense = mx[1] == 0;
    size_t D = (size_t)s->D;
    if (D && (rc = dist_sum_double(s->sum, D, err)) == LL_OK &&
        (rc = dist_sum_double(s->sumsq, D, err)) == LL_OK)
        rc = dist_sum_double(s->nnz, D, err);
    double sc[3] = {s->n, s->ysum, s->yysum};
    if (rc == LL_OK)
        rc = dist_sum_double(sc, 3, err);
    if (rc == LL_OK && s->n_cls)
        rc = dist_sum_double(s->cls, s->n_cls, err);
    s->n = sc[0];
    s->ysum = sc[1];
    s->yysum = sc[2];
    return rc;
}

ll_code shard_sum_metrics(metrics *m, ll_err *err)
{
    metrics_flush(m);
    if (!dist_on())
        return LL_OK;
    double v[13] = {m->n,       m->loss, m->tp, m->fp, m->tn, m->fn, m->correct,
                    m->topk_ok, m->dcg,  m->se, m->ae, m->sy, m->syy};
    ll_code rc = dist_sum_double(v, 13, err);
    if (rc != LL_OK)
        return rc;
    double *f[13] = {&m->n,       &m->loss, &m->tp, &m->fp, &m->tn, &m->fn, &m->correct,
                     &m->topk_ok, &m->dcg,  &m->se, &m->ae, &m->sy, &m->syy};
    for (int i = 0; i < 13; i++)
        *f[i] = v[i];
    if (m->tp_c && (rc = dist_sum_double(m->tp_c, m->C, err)) == LL_OK &&
        (rc = dist_sum_double(m->pred_c, m->C, err)) == LL_OK)
        rc = dist_sum_double(m->act_c, m->C, err);
    if (rc != LL_OK || m->pred != LL_BINARY_CLASSIFIER)
        return rc;
    /* the kept (score, label, weight) rows: gathered as three arrays in one buffer */
    size_t len = m->ns * 3 * sizeof(float);
    float *mine = mem_alloc(len ? len : 1);
    if (!mine)
        return err_set(err, LL_E_NOMEM, "out of memory");
    for (size_t i = 0; i < m->ns; i++) {
        mine[3 * i] = m->sc[i];
        mine[3 * i + 1] = m->lab[i];
        mine[3 * i + 2] = m->wt[i];
    }
    void *all = NULL;
    rc = dist_gather(mine, len, &all, NULL, err);
    mem_free(mine);
    if (rc != LL_OK)
        return rc;
    size_t tot = 0;
    {
        /* every host's bytes are multiples of 3 floats: the total is too */
        uint64_t n = m->ns;
        rc = dist_sum_u64(&n, 1, err);
        tot = (size_t)n;
    }
    float *a = all;
    float *sc = rc == LL_OK ? mem_alloc((tot ? tot : 1) * sizeof(float)) : NULL;
    float *lab = sc ? mem_alloc((tot ? tot : 1) * sizeof(float)) : NULL;
    float *wt = lab ? mem_alloc((tot ? tot : 1) * sizeof(float)) : NULL;
    if (rc == LL_OK && !wt)
        rc = err_set(err, LL_E_NOMEM, "out of memory for %zu gathered scores", tot);
    if (rc == LL_OK) {
        for (size_t i = 0; i < tot; i++) {
            sc[i] = a[3 * i];
            lab[i] = a[3 * i + 1];
            wt[i] = a[3 * i + 2];
        }
        mem_free(m->sc);
        mem_free(m->lab);
        mem_free(m->wt);
        m->sc = sc;
        m->lab = lab;
        m->wt = wt;
        m->ns = m->cap = tot;
    } else {
        mem_free(sc);
        mem_free(lab);
        mem_free(wt);
    }
    mem_free(all);
    return rc;
}

typedef struct keyed {
    uint64_t key;
    const float *row;
} keyed;

static int by_key(const void *a, const void *b)
{
    uint64_t x = ((const keyed *)a)->key, y = ((const keyed *)b)->key;
    return x < y ? -1 : x > y;
}

ll_code shard_merge_rows(uint64_t *keys, float *rows, size_t P, size_t *n, size_t cap, ll_err *err)
{
    if (!dist_on())
        return LL_OK;
    size_t rb = sizeof(uint64_t) + P * sizeof(float), len = *n * rb;
    char *mine = mem_alloc(len ? len : 1);
    if (!mine)
        return err_set(err, LL_E_NOMEM, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        memcpy(mine + i * rb, &keys[i], sizeof(uint64_t));
        memcpy(mine + i * rb + sizeof(uint64_t), rows + i * P, P * sizeof(float));
    }
    void *all = NULL;
    int N = dist_size();
    size_t *lens = mem_calloc((size_t)N, sizeof *lens);
    ll_code rc =
        lens ? dist_gather(mine, len, &all, lens, err) : err_set(err, LL_E_NOMEM, "out of memory");
    mem_free(mine);
    size_t tot = 0;
    for (int i = 0; rc == LL_OK && i < N; i++)
        tot += lens[i] / rb;
    mem_free(lens);
    keyed *k = rc == LL_OK ? mem_alloc((tot ? tot : 1) * sizeof *k) : NULL;
    if (rc == LL_OK && !k)
        rc = err_set(err, LL_E_NOMEM, "out of memory for %zu gathered rows", tot);
    if (rc != LL_OK) {
        mem_free(all);
        return rc;
    }
    char *a = all;
    for (size_t i = 0; i < tot; i++) {
        memcpy(&k[i].key, a + i * rb, sizeof(uint64_t));
        k[i].row = (const float *)(a + i * rb + sizeof(uint64_t));
    }
    qsort(k, tot, sizeof *k, by_key);
    size_t m = tot < cap ? tot : cap;
    for (size_t i = 0; i < m; i++) {
        keys[i] = k[i].key;
        memcpy(rows + i * P, k[i].row, P * sizeof(float));
    }
    *n = m;
    mem_free(k);
    mem_free(all);
    return LL_OK;
}
