/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scaler.c - feature and label statistics from the first rows of the training data, and the
 * resolution of normalize_data / unbias_data / normalize_label / unbias_label (auto rules in
 * docs/TRAINING.md). Sparse data is scaled but never shifted unless unbias_data=true.
 */
#include "scaler.h"
#include "err.h"
#include "mem.h"
#include <math.h>
#include <string.h>

ll_code scaler_init(scaler *s, uint32_t n_cls, ll_err *err)
{
    memset(s, 0, sizeof *s);
    s->all_dense = 1;
    s->n_cls = n_cls;
    s->ysd = 1;
    if (n_cls) {
        s->cls = mem_calloc(n_cls, sizeof *s->cls);
        if (!s->cls)
            return err_set(err, LL_E_NOMEM, "out of memory for class counts");
    }
    return LL_OK;
}

void scaler_deinit(scaler *s)
{
    mem_free(s->sum);
    mem_free(s->sumsq);
    mem_free(s->nnz);
    mem_free(s->cls);
    mem_free(s->mu);
    mem_free(s->sc);
    memset(s, 0, sizeof *s);
}

static ll_code grow(scaler *s, uint64_t d, ll_err *err)
{
    if (d <= s->cap)
        return LL_OK;
    if (d > ((uint64_t)1 << 32))
        return err_set(err, LL_E_TOOBIG, "%llu features are more than supported",
                       (unsigned long long)d);
    size_t c = s->cap ? s->cap : 64;
    while (c < d)
        c *= 2;
    double *a = mem_realloc_array(s->sum, c, sizeof *a);
    if (a)
        s->sum = a;
    double *b = mem_realloc_array(s->sumsq, c, sizeof *b);
    if (b)
        s->sumsq = b;
    double *z = mem_realloc_array(s->nnz, c, sizeof *z);
    if (z)
        s->nnz = z;
    if (!a || !b || !z)
        return err_set(err, LL_E_NOMEM, "out of memory for %zu feature statistics", c);
    memset(s->nnz + s->cap, 0, (c - s->cap) * sizeof *a);
    memset(s->sum + s->cap, 0, (c - s->cap) * sizeof *a);
    memset(s->sumsq + s->cap, 0, (c - s->cap) * sizeof *b);
    s->cap = c;
    return LL_OK;
}

ll_code scaler_grow(scaler *s, uint64_t d, ll_err *err)
{
    return grow(s, d, err);
}

ll_code scaler_add(scaler *s, const ll_batch *b, const float *y, size_t limit, ll_err *err)
{
    size_t n = b->n_rows < limit ? b->n_rows : limit;
    for (size_t i = 0; i < n; i++) {
        uint64_t d = b->dim[i];
        ll_code rc = grow(s, d, err);
        if (rc != LL_OK)
            return rc;
        if (d > s->D)
            s->D = d;
        const float *v = b->val + b->off[i];
        size_t nv = b->off[i + 1] - b->off[i];
        if (b->sparse[i]) {
            s->all_dense = 0;
            const uint32_t *ix = b->idx + b->off[i];
            for (size_t k = 0; k < nv; k++) {
                s->sum[ix[k]] += v[k];
                s->sumsq[ix[k]] += (double)v[k] * v[k];
                s->nnz[ix[k]] += v[k] != 0;
            }
        } else {
            for (size_t k = 0; k < nv; k++) {
                s->sum[k] += v[k];
                s->sumsq[k] += (double)v[k] * v[k];
                s->nnz[k] += v[k] != 0;
            }
        }
        s->n += 1;
        s->ysum += y[i];
        s->yysum += (double)y[i] * y[i];
        if (s->n_cls && y[i] >= 0 && y[i] < s->n_cls)
            s->cls[(uint32_t)y[i]] += 1;
    }
    return LL_OK;
}

ll_code scaler_finish(scaler *s, const hp_values *hv, uint64_t D, ll_err *err)
{
    ll_code rc = grow(s, D, err);
    if (rc != LL_OK)
        return rc;
    mem_free(s->mu);
    mem_free(s->sc);
    s->mu = NULL;
    s->sc = mem_alloc(D * sizeof *s->sc);
    if (!s->sc)
        return err_set(err, LL_E_NOMEM, "out of memory for %llu scales", (unsigned long long)D);
    int norm = hv->normalize_data != 0; /* auto and true */
    int unb =
        hv->unbias_data == 1 || (hv->unbias_data == -1 && norm && hv->use_bias && s->all_dense);
    double n = s->n > 0 ? s->n : 1;
    /* Dense data: unit standard deviation. Sparse data (kept sparse, no shift): unit root mean
     * square over the rows where the feature is present, so rare features are not blown up by
     * 1/std (docs/TRAINING.md). */
    int sparse_rule = !s->all_dense && !unb;
    for (uint64_t j = 0; j < D; j++) {
        double m = s->sum[j] / n, var = s->sumsq[j] / n - m * m;
        if (sparse_rule)
            var = s->nnz[j] > 0 ? s->sumsq[j] / s->nnz[j] : 0;
        double sd = var > 0 ? sqrt(var) : 0;
        s->sc[j] = norm && sd > 1e-12 ? (float)(1.0 / sd) : 1.0f;
    }
    s->shift = unb;
    if (unb) {
        s->mu = mem_alloc(D * sizeof *s->mu);
        if (!s->mu)
            return err_set(err, LL_E_NOMEM, "out of memory for %llu means", (unsigned long long)D);
        for (uint64_t j = 0; j < D; j++)
            s->mu[j] = (float)(s->sum[j] / n);
    }
    s->ymu = 0;
    s->ysd = 1;
    if (hv->pred == LL_REGRESSOR) {
        double m = s->ysum / n, var = s->yysum / n - m * m;
        if (hv->normalize_label != 0 && var > 1e-24)
            s->ysd = sqrt(var);
        if (hv->unbias_label == 1 || (hv->unbias_label == -1 && hv->use_bias))
            s->ymu = m;
    }
    return LL_OK;
}
