/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgd.c - the K-model trainer: forward pass (gemm.h's kernels or sgemm for dense batches, a CSR
 * kernel for sparse ones), loss gradients, backward pass, and the sgd/adam/rmsprop updates with
 * L2 (wd), a proximal L1 step (weights reach exact zeros) and the step-wise learning-rate
 * scheduler.
 * The spread of per-model settings is documented in docs/TRAINING.md.
 */
#include "sgd.h"
#include "err.h"
#include "gemm.h"
#include "mem.h"
#include "pool.h"
#include "spk.h"
#include <cblas.h>
#include <math.h>
#include <string.h>

#define ADAM_EPS 1e-8

/* gcc: vectorise the per-column loops of the hot kernels (clang does at -O2) */
#if defined(__GNUC__) && !defined(__clang__)
#define SGD_VEC __attribute__((optimize("tree-vectorize", "no-trapping-math", "no-math-errno")))
#else
#define SGD_VEC
#endif
#define RMSPROP_RHO 0.9

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unif(uint64_t *x)
{
    return (double)(splitmix(x) >> 11) * (1.0 / 9007199254740992.0);
}

/* The settings of model k around the base values (docs/TRAINING.md, "num_models"). */
static void spread(const hp_values *hv, double balanced, uint32_t k, sgd_cfg *c)
{
    static const double lr_mult[4] = {1, 8, 3, 0.2};
    uint32_t v = k % 4, g = (k / 4) % 8, round = k / 32;
    double wd0 = hv->wd, l10 = hv->l1;
    double wu = wd0 > 0 ? wd0 : 1e-5, lu = l10 > 0 ? l10 : 1e-5;
    double wd = wd0, l1 = l10;
    switch (g) {
    case 1:
        wd = wu * 3;
        break;
    case 2:
        wd = wu * 10;
        break;
    case 3:
        wd = wu * 30;
        break;
    case 4:
        wd = wu / 10;
        break;
    case 5:
        l1 = lu * 10;
        break;
    case 6:
        l1 = lu * 100;
        break;
    case 7:
        wd = 0;
        l1 = 0;
        break;
    default:
        break;
    }
    c->lr = hv->learning_rate * lr_mult[v] * (1.0 + 0.25 * round);
    c->wd = wd;
    c->l1 = l1;
    switch (hv->posw_mode) {
    case POSW_VALUE:
        c->posw = hv->posw;
        break;
    case POSW_BALANCED:
        c->posw = balanced;
        break;
    case POSW_AUTO:
        c->posw = (g % 2) ? balanced : 1.0;
        break;
    }
}

/* n x size bytes on a cache line (huge pages when large), zeroed when zero is set; NULL on
 * overflow or out of memory. */
static void *zalloc_line(size_t n, size_t size, int zero)
{
    if (size && n > (size_t)-1 / size)
        return NULL;
    void *p = mem_alloc_aligned(n * size);
    if (p && n * size >= ((size_t)4 << 20))
        mem_advise_huge(p, n * size);
    if (p && zero)
        memset(p, 0, n * size);
    return p;
}

static void cache_clear(sgd_part *p)
{
    for (unsigned i = 0; i < 2 * p->nslot; i++)
        p->cache_t[i] = UINT64_MAX;
}

static void parts_free(sgd *s)
{
    for (unsigned i = 0; s->part && i < s->nparts; i++) {
        mem_free(s->part[i].lrow);
        mem_free(s->part[i].ca);
        mem_free(s->part[i].cache_t);
        mem_free(s->part[i].g);
    }
    mem_free(s->part);
    s->part = NULL;
    s->nparts = 0;
}

static ll_code parts_new(sgd *s, unsigned np)
{
    parts_free(s);
    s->part = mem_calloc(np, sizeof *s->part);
    if (!s->part)
        return LL_E_NOMEM;
    s->nparts = np;
    for (unsigned i = 0; i < np; i++) {
        sgd_part *p = &s->part[i];
        p->lrow = zalloc_line(s->K, sizeof(float), 1);
        /* up to 64 slots within about 256 KiB: most catch-ups of a step then find the
         * factors of their last step (one slot missed 9 in 10 on a 100k-feature set) */
        p->stride = (s->M + 15) & ~(size_t)15;
        p->nslot = 64;
        while (p->nslot > 1 && p->nslot * 2 * p->stride * sizeof(float) > ((size_t)256 << 10))
            p->nslot /= 2;
        p->ca = zalloc_line(p->nslot * 2 * p->stride, sizeof(float), 1);
        p->cache_t = mem_calloc(2 * (size_t)p->nslot, sizeof(uint64_t));
        p->g = zalloc_line(s->M, sizeof(float), 1);
        if (!p->lrow || !p->ca || !p->cache_t || !p->g)
            return LL_E_NOMEM;
        cache_clear(p);
    }
    return LL_OK;
}

ll_code sgd_init(sgd *s, const hp_values *hv, uint64_t D, const scaler *sc, uint64_t seed,
                 ll_err *err)
{
    memset(s, 0, sizeof *s);
    s->hv = *hv;
    s->D = D;
    s->C = hv->pred == LL_MULTICLASS_CLASSIFIER ? hv->num_classes : 1;
    s->K = hv->num_models;
    s->M = (size_t)s->K * s->C;
    s->sc = sc;
    loss_params lp = {hv->loss, hv->margin, hv->loss_insensitivity, hv->quantile, hv->huber_delta};
    s->lp_raw = lp;
    lp.eps /= sc->ysd;
    lp.delta /= sc->ysd;
    s->lp_scaled = lp;
    if (D * s->M > ((uint64_t)1 << 31))
        return err_set(err, LL_E_TOOBIG,
                       "%llu features x %zu model outputs is too many weights (limit 2^31)",
                       (unsigned long long)D, s->M);
    size_t DM = (size_t)D * s->M;
    /* what the parts of a sparse step write side by side starts on a cache line */
    s->W = zalloc_line(DM, sizeof(float), 0);
    s->G = zalloc_line(DM, sizeof(float), 0);
    s->s1W = zalloc_line(DM, sizeof(float), 1);
    s->s2W = zalloc_line(DM, sizeof(float), 1);
    s->B = zalloc_line(s->M, sizeof(float), 0);
    s->gB = zalloc_line(s->M, sizeof(float), 0);
    s->s1B = zalloc_line(s->M, sizeof(float), 1);
    s->s2B = zalloc_line(s->M, sizeof(float), 1);
    s->cfg = mem_calloc(s->K, sizeof *s->cfg);
    s->lr = mem_calloc(s->K, sizeof *s->lr);
    s->tl = zalloc_line(s->K, sizeof *s->tl, 1);
    s->pw = zalloc_line(7 * s->M, sizeof *s->pw, 1);
    s->posw = mem_calloc(s->K, sizeof *s->posw);
    s->lrow = zalloc_line(s->K, sizeof *s->lrow, 1);
    s->drow = zalloc_line(s->K, sizeof *s->drow, 1);

    s->last = mem_calloc(D ? D : 1, sizeof *s->last);
    s->mark = mem_calloc(D ? D : 1, sizeof *s->mark);
    s->cap_lrsum = (size_t)s->K * 1024;
    s->lrsum = mem_calloc(s->cap_lrsum, sizeof *s->lrsum);
    if (!s->pw || !s->posw || !s->lrow || !s->drow || !s->last || !s->mark || !s->lrsum) {
        sgd_deinit(s);
        return err_set(err, LL_E_NOMEM, "out of memory for %llu features", (unsigned long long)D);
    }
    if (!s->W || !s->G || !s->s1W || !s->s2W || !s->B || !s->gB || !s->s1B || !s->s2B || !s->cfg ||
        !s->lr || !s->tl) {
        sgd_deinit(s);
        return err_set(err, LL_E_NOMEM, "out of memory for %zu weights", DM);
    }
    /* class weights */
    double balanced = 1.0;
    if (hv->pred == LL_BINARY_CLASSIFIER && sc->cls && sc->cls[1] > 0)
        balanced = sc->cls[0] / sc->cls[1];
    if (balanced <= 0)
        balanced = 1.0;
    if (hv->pred == LL_MULTICLASS_CLASSIFIER && hv->balance_multiclass_weights) {
        s->cw = mem_alloc(s->C * sizeof(float));
        if (!s->cw) {
            sgd_deinit(s);
            return err_set(err, LL_E_NOMEM, "out of memory");
        }
        for (uint32_t c = 0; c < s->C; c++) {
            double f = sc->n > 0 ? sc->cls[c] / sc->n : 0;
            s->cw[c] = f > 0 ? (float)(1.0 / f) : 1e6f;
        }
    }
    for (uint32_t k = 0; k < s->K; k++) {
        spread(hv, balanced, k, &s->cfg[k]);
        s->lr[k] = s->cfg[k].lr;
        s->posw[k] = (float)s->cfg[k].posw;
        s->any_l1 |= s->cfg[k].l1 > 0;
    }
    if (parts_new(s, 1) != LL_OK) {
        sgd_deinit(s);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    s->pwd = s->pw + s->M;
    s->pl1 = s->pwd + s->M;
    s->pb = s->pl1 + s->M;
    s->pbwd = s->pb + s->M;
    s->ca = s->pbwd + s->M;
    s->cl = s->ca + s->M;
    uint64_t x = seed ^ 0x6C696E6C6561726Eull;
    for (size_t i = 0; i < DM; i++) {
        if (hv->init_normal) {
            double u1 = unif(&x), u2 = unif(&x);
            if (u1 < 1e-300)
                u1 = 1e-300;
            s->W[i] = (float)(hv->init_sigma * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
        } else {
            s->W[i] = (float)(hv->init_scale * (2 * unif(&x) - 1));
        }
    }
    for (size_t m = 0; m < s->M; m++)
        s->B[m] = hv->use_bias ? (float)hv->init_bias : 0.0f;
    return LL_OK;
}

ll_code sgd_threads(sgd *s, unsigned n, ll_err *err)
{
    if (n > 64)
        n = 64;
    if (n < 2 || n == s->nparts)
        return LL_OK;
    pool *p = pool_new(n, err);
    if (!p)
        return err->code;
    if (parts_new(s, n) != LL_OK) {
        pool_free(p);
        return err_set(err, LL_E_NOMEM, "out of memory for %u threads", n);
    }
    pool_free(s->pool);
    s->pool = p;
    return LL_OK;
}

void sgd_deinit(sgd *s)
{
    pool_free(s->pool);
    parts_free(s);
    mem_free(s->epos);
    mem_free(s->tcnt);
    mem_free(s->tstart);
    mem_free(s->erow);
    mem_free(s->ex);
    mem_free(s->rowloss);
    float *fs[] = {s->W,  s->B, s->s1W, s->s2W, s->s1B,   s->s2B,   s->G, s->gB,
                   s->cw, s->X, s->Z,   s->dZ,  s->bestW, s->bestB, s->yb};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        mem_free(fs[i]);
    mem_free(s->cfg);
    mem_free(s->lr);
    mem_free(s->tl);
    mem_free(s->pw);
    mem_free(s->posw);
    mem_free(s->lrow);
    mem_free(s->drow);

    mem_free(s->last);
    mem_free(s->mark);
    mem_free(s->lrsum);
    mem_free(s->touched);
    mem_free(s->red);
    memset(s, 0, sizeof *s);
}

static ll_code ensure(float **p, size_t *cap, size_t n, ll_err *err)
{
    if (n <= *cap)
        return LL_OK;
    /* the contents are not kept: every user overwrites them */
    float *q = zalloc_line(n, sizeof(float), 0);
    if (!q)
        return err_set(err, LL_E_NOMEM, "out of memory for %zu floats", n);
    mem_free(*p);
    *p = q;
    *cap = n;
    return LL_OK;
}

static ll_code check_rows(const sgd *s, const ll_batch *b, uint64_t row0, ll_err *err)
{
    for (size_t i = 0; i < b->n_rows; i++) {
        if (b->sparse[i] ? b->dim[i] > s->D : b->dim[i] != s->D)
            return err_set(err, LL_E_PARSE, "row %llu has %llu features but feature_dim is %llu",
                           (unsigned long long)(row0 + i + 1), (unsigned long long)b->dim[i],
                           (unsigned long long)s->D);
    }
    return LL_OK;
}

/* The dense products of M columns go through gemm.h's kernels (else OpenBLAS's sgemm). On
 * two cores they run on the calling thread: splitting a batch's rows over the pool made the
 * dense 32-model epoch 1.26x slower (the wake-ups, and the reader's thread wants a core). */
static int own_gemm(size_t M)
{
    return M >= GEMM_MIN_COLS && M <= GEMM_MAX_COLS;
}

/* Whether the batch goes through the dense path (X holds the scaled rows). */
static int use_dense(const sgd *s, const ll_batch *b)
{
    return b->dense || s->sc->shift;
}

/* Runs fn over every part: on the pool when there is one. */
static void run_parts(sgd *s, pool_fn fn)
{
    if (s->pool)
        pool_run(s->pool, fn, s);
    else
        fn(s, 0, 1);
}

/* Prefetches the n floats at p (for writing when w is set), one cache line at a time. */
#define SGD_PF 8 /* how many features ahead the scattered rows are prefetched */

static inline void prefetch_row(const float *p, size_t n, int w)
{
    for (size_t i = 0; i < n; i += 16) {
        if (w)
            __builtin_prefetch(p + i, 1);
        else
            __builtin_prefetch(p + i);
    }
}

/* Z = B + x W for rows [i0, i1) of the sparse batch b (scaled features). */
static void forward_rows(sgd *s, const ll_batch *b, size_t i0, size_t i1)
{
    spk_forward(s->W, s->B, s->M, b->idx, b->val, b->off, s->sc->sc, i0, i1, s->Z);
}

/* Part pi of np's share of 0..n-1. */
static size_t share(size_t n, unsigned pi, unsigned np)
{
    return (size_t)((uint64_t)n * pi / np);
}

static void forward_part(void *ud, unsigned pi, unsigned np)
{
    sgd *s = ud;
    size_t n = s->jb->n_rows;
    forward_rows(s, s->jb, share(n, pi, np), share(n, pi + 1, np));
}

/* The forward pass of a sparse batch with one column, on the calling thread: forward_rows's
 * operations for M == 1 without its per-row and per-feature calls. */
SGD_VEC static inline void forward_m1(sgd *s, const ll_batch *b)
{
    float *Z = s->Z;
    const float *W = s->W, *sc = s->sc->sc;
    const uint32_t *idx = b->idx;
    const float *val = b->val;
    const size_t *off = b->off;
    size_t n = b->n_rows, end = off[n];
    for (size_t i = 0; i < n; i++) {
        float z = s->B[0];
        for (size_t k = off[i]; k < off[i + 1]; k++) {
            if (k + SGD_PF < end)
                __builtin_prefetch(&W[idx[k + SGD_PF]]);
            uint32_t j = idx[k];
            float x = val[k] * sc[j];
            z += x * W[j];
        }
        Z[i] = z;
    }
}

/* Rows [i0, i1) of the dense path: Z = B, X = the scaled features. */
SGD_VEC static void dense_rows(sgd *s, const ll_batch *b, size_t i0, size_t i1)
{
    size_t M = s->M;
    uint64_t D = s->D;
    const float *sc = s->sc->sc, *mu = s->sc->mu;
    for (size_t i = i0; i < i1; i++) {
        memcpy(s->Z + i * M, s->B, M * sizeof(float));
        float *x = s->X + i * D;
        const float *v = b->val + b->off[i];
        if (b->sparse[i]) { /* scattered into x, then scaled in place */
            memset(x, 0, D * sizeof(float));
            const uint32_t *ix = b->idx + b->off[i];
            for (size_t k = 0; k < b->off[i + 1] - b->off[i]; k++)
                x[ix[k]] = v[k];
            v = x;
        }
        /* a dense row is scaled as it is copied: the same operations on the same values */
        if (mu)
            for (uint64_t j = 0; j < D; j++)
                x[j] = (v[j] - mu[j]) * sc[j];
        else
            for (uint64_t j = 0; j < D; j++)
                x[j] = v[j] * sc[j];
    }
}

SGD_VEC ll_code sgd_forward(sgd *s, const ll_batch *b, uint64_t row0, ll_err *err)
{
    size_t n = b->n_rows, M = s->M;
    uint64_t D = s->D;
    ll_code rc = check_rows(s, b, row0, err);
    if (rc == LL_OK)
        rc = ensure(&s->Z, &s->capZ, n * M, err);
    if (rc != LL_OK || n == 0)
        return rc;
    if (use_dense(s, b)) {
        rc = ensure(&s->X, &s->capX, n * D, err);
        if (rc != LL_OK)
            return rc;
        dense_rows(s, b, 0, n);
        if (own_gemm(M))
            gemm_xw(s->X, s->W, s->Z, D, M, 0, n);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)M, (int)D, 1.0f,
                        s->X, (int)D, s->W, (int)M, 1.0f, s->Z, (int)M);
        return LL_OK;
    }
    if (M == 1) {
        forward_m1(s, b);
        return LL_OK;
    }
    s->jb = b;
    run_parts(s, forward_part);
    return LL_OK;
}

/* dZ = dLoss/dZ (weighted, divided by n) for the batch; adds the losses to tl. */
SGD_VEC static void gradients_rows(sgd *s, sgd_part *p, const ll_batch *b, const float *y,
                                   size_t i0, size_t i1)
{
    size_t n = b->n_rows, M = s->M;
    uint32_t C = s->C, k0 = 0, k1 = s->K;
    const hp_values *hv = &s->hv;
    double ymu = s->sc->ymu, ysd = s->sc->ysd;
    float inv = s->allreduce ? 1.0f : 1.0f / (float)n; /* across hosts: after the sum */
    for (size_t i = i0; i < i1; i++) {
        double rw = b->weight ? b->weight[i] : 1.0;
        const float *z = s->Z + i * M;
        float *dz = s->dZ + i * M;
        double *tl = s->rowloss + i * s->K; /* this row's terms of the loss sums */
        if (hv->pred == LL_MULTICLASS_CLASSIFIER) {
            uint32_t t = (uint32_t)y[i];
            double f = rw * (s->cw ? s->cw[t] : 1.0);
            for (uint32_t k = k0; k < k1; k++) {
                tl[k] = rw * loss_softmax(z + (size_t)k * C, C, t, dz + (size_t)k * C);
                for (uint32_t c = 0; c < C; c++)
                    dz[(size_t)k * C + c] *= (float)f * inv;
            }
        } else if (hv->loss == LOSS_LOGISTIC) {
            int pos = y[i] > 0.5f;
            float *lk = p->lrow;
            loss_logistic_n(z, k1, pos ? 1.0f : 0.0f, lk, dz);
            float f = (float)rw * inv;
            for (uint32_t k = k0; k < k1; k++) {
                tl[k] = rw * lk[k];
                dz[k] *= pos ? f * s->posw[k] : f;
            }
        } else {
            double yy = hv->pred == LL_REGRESSOR ? (y[i] - ymu) / ysd : y[i];
            int pos = hv->pred == LL_BINARY_CLASSIFIER && y[i] > 0.5f;
            for (uint32_t k = k0; k < k1; k++) {
                double d;
                tl[k] = rw * loss_eval(&s->lp_scaled, z[k], yy, &d);
                double f = rw * (pos ? s->cfg[k].posw : 1.0);
                dz[k] = (float)(d * f) * inv;
            }
        }
    }
}

/* Adds the batch's row weights and row losses to tw / tl, in row order. */
static void loss_sums(sgd *s, const ll_batch *b)
{
    uint32_t K = s->K;
    for (size_t i = 0; i < b->n_rows; i++) {
        s->tw += b->weight ? b->weight[i] : 1.0;
        const double *tl = s->rowloss + i * K;
        for (uint32_t k = 0; k < K; k++)
            s->tl[k] += tl[k];
    }
}

static ll_code ensure_rowloss(sgd *s, size_t n, ll_err *err)
{
    size_t need = n * s->K;
    if (need <= s->cap_rowloss)
        return LL_OK;
    double *q = zalloc_line(need, sizeof(double), 0);
    if (!q)
        return err_set(err, LL_E_NOMEM, "out of memory for %zu losses", need);
    mem_free(s->rowloss);
    s->rowloss = q;
    s->cap_rowloss = need;
    return LL_OK;
}

/* The dense path's dZ and row losses on the calling thread (the batch's GEMMs use the BLAS
 * threads; splitting these rows over the pool as well cost more in wake-ups than it saved on
 * two cores). */
static void gradients(sgd *s, const ll_batch *b, const float *y)
{
    gradients_rows(s, &s->part[0], b, y, 0, b->n_rows);
    loss_sums(s, b);
}

/* Per-column (M = K x C) float parameters of optimizer step s->t (already incremented):
 * step size, L2 and L1 (times the learning rate), for weights and for biases. */
static void step_sizes(sgd *s)
{
    const hp_values *hv = &s->hv;
    double c1 = 1 - pow(hv->beta_1, (double)s->t), c2 = 1 - pow(hv->beta_2, (double)s->t);
    uint32_t C = s->C;
    for (uint32_t k = 0; k < s->K; k++) {
        double lr = s->lr[k];
        double st = hv->optimizer == OPT_ADAM ? lr * sqrt(c2) / c1 : lr;
        const sgd_cfg *cf = &s->cfg[k];
        for (uint32_t c = 0; c < C; c++) {
            size_t m = (size_t)k * C + c;
            s->pw[m] = (float)st;
            s->pwd[m] = (float)cf->wd;
            s->pl1[m] = (float)(cf->l1 * lr);
            s->pb[m] = (float)(st * hv->bias_lr_mult);
            s->pbwd[m] = (float)(cf->wd * hv->bias_wd_mult);
        }
    }
}

/* The optimizer update of one row of M values at W/G/m1/m2 (a feature's weights for every
 * model, or the biases) with per-column step, L2 and L1 (NULL: none); float, vectorised. */
SGD_VEC static inline __attribute__((always_inline)) void
update_cols(const sgd *s, size_t M, float *restrict W, const float *restrict G, float *restrict m1,
            float *restrict m2, const float *restrict st, const float *restrict wd,
            const float *restrict l1)
{
    const hp_values *hv = &s->hv;
    float b1 = (float)hv->beta_1, b2 = (float)hv->beta_2, mo = (float)hv->momentum;
    switch (hv->optimizer) {
    case OPT_ADAM:
        /* spk.h: the same operations (the L1 step too), in AVX-512 where the CPU has it; one
         * column (sparse_m1, per feature) stays inline below, a call would cost more */
        if (M > 1) {
            spk_adam(M, W, G, m1, m2, st, wd, l1, b1, b2, (float)ADAM_EPS);
            return;
        }
        for (size_t i = 0; i < M; i++) {
            float g = G[i] + wd[i] * W[i];
            m1[i] = b1 * m1[i] + (1 - b1) * g;
            m2[i] = b2 * m2[i] + (1 - b2) * g * g;
            W[i] -= st[i] * m1[i] / (sqrtf(m2[i]) + (float)ADAM_EPS);
        }
        break;
    case OPT_RMSPROP:
        for (size_t i = 0; i < M; i++) {
            float g = G[i] + wd[i] * W[i];
            m2[i] = (float)RMSPROP_RHO * m2[i] + (float)(1 - RMSPROP_RHO) * g * g;
            W[i] -= st[i] * g / (sqrtf(m2[i]) + (float)ADAM_EPS);
        }
        break;
    case OPT_SGD:
        for (size_t i = 0; i < M; i++) {
            float g = G[i] + wd[i] * W[i];
            m1[i] = mo * m1[i] - st[i] * g;
            W[i] += m1[i];
        }
        break;
    }
    if (l1)
        for (size_t i = 0; i < M; i++) {
            float w = W[i], t = l1[i];
            W[i] = w > t ? w - t : w < -t ? w + t : 0.0f;
        }
}

SGD_VEC static void update_vals(const sgd *s, size_t M, float *restrict W, const float *restrict G,
                                float *restrict m1, float *restrict m2, const float *restrict st,
                                const float *restrict wd, const float *restrict l1)
{
    update_cols(s, M, W, G, m1, m2, st, wd, l1);
}

/* Records the learning rates of step s->t (cumulative sums for the lazy regularisation of
 * sparse features) and applies the scheduler. */
static ll_code step_done(sgd *s, ll_err *err)
{
    const hp_values *hv = &s->hv;
    uint32_t K = s->K;
    if ((s->t + 1) * K > s->cap_lrsum) {
        size_t c = s->cap_lrsum ? s->cap_lrsum * 2 : (size_t)K * 1024;
        while (c < (s->t + 1) * K)
            c *= 2;
        double *q = mem_realloc_array(s->lrsum, c, sizeof(double));
        if (!q)
            return err_set(err, LL_E_NOMEM, "out of memory for the learning-rate history");
        s->lrsum = q;
        s->cap_lrsum = c;
    }
    for (uint32_t k = 0; k < K; k++) {
        s->lrsum[s->t * K + k] = s->lrsum[(s->t - 1) * K + k] + s->lr[k];
        if (hv->use_lr_scheduler && hv->lr_scheduler_step && s->t % hv->lr_scheduler_step == 0) {
            double nl = s->lr[k] * hv->lr_scheduler_factor;
            double floor_lr = fmin(hv->lr_scheduler_minimum_lr, s->lr[k]);
            s->lr[k] = nl > floor_lr ? nl : floor_lr;
        }
    }
    return LL_OK;
}

/* Dense step: every weight. */
static ll_code update(sgd *s, ll_err *err)
{
    size_t M = s->M;
    s->t++;
    step_sizes(s);
    const float *l1 = s->any_l1 ? s->pl1 : NULL;
    for (uint64_t j = 0; j < s->D; j++) {
        size_t o = (size_t)j * M;
        update_vals(s, M, s->W + o, s->G + o, s->s1W + o, s->s2W + o, s->pw, s->pwd, l1);
        s->last[j] = s->t;
    }
    s->synced = s->t;
    if (s->hv.use_bias)
        update_vals(s, M, s->B, s->gB, s->s1B, s->s2B, s->pb, s->pbwd, NULL);
    return step_done(s, err);
}

/* w <- shrink(w e^-a, l) over n columns (the catch-up of missed regularisation). */
SGD_VEC static inline void decay_row(float *restrict w, const float *restrict f,
                                     const float *restrict l, size_t n, int with_l1)
{
    for (size_t i = 0; i < n; i++)
        w[i] *= f[i];
    if (with_l1)
        for (size_t i = 0; i < n; i++) {
            float v = w[i], t = l[i];
            w[i] = v > t ? v - t : v < -t ? v + t : 0.0f;
        }
}

/* Brings feature j's weights from step last[j] to step t1: the L2 decay and L1 shrinkage of
 * the steps it was absent from (its optimizer state is left as it was, as in lazy adam);
 * last[j] is the caller's to move. The factors depend only on (last[j], t1): each part keeps
 * them in its cache slot last[j] mod nslot, so the catch-ups of one step rarely recompute. */
static inline const float *catch_factors(sgd *s, sgd_part *p, uint64_t t0, uint64_t t1)
{
    unsigned slot = (unsigned)(t0 & (p->nslot - 1));
    float *ca = p->ca + (size_t)slot * 2 * p->stride, *cl = ca + p->stride;
    uint64_t *tag = p->cache_t + 2 * (size_t)slot;
    if (tag[0] != t0 || tag[1] != t1) {
        uint32_t K = s->K, C = s->C;
        const double *a = s->lrsum + t1 * K, *b = s->lrsum + t0 * K;
        for (uint32_t k = 0; k < K; k++) {
            double d = a[k] - b[k];
            for (uint32_t c = 0; c < C; c++) {
                ca[(size_t)k * C + c] = (float)(s->cfg[k].wd * d);
                cl[(size_t)k * C + c] = (float)(s->cfg[k].l1 * d);
            }
        }
        loss_exp_neg_n(ca, s->M, ca);
        tag[0] = t0;
        tag[1] = t1;
    }
    return ca;
}

static void catch_up(sgd *s, sgd_part *p, uint64_t j, uint64_t t1)
{
    uint64_t t0 = s->last[j];
    if (t0 >= t1)
        return;
    const float *ca = catch_factors(s, p, t0, t1);
    decay_row(s->W + (size_t)j * s->M, ca, ca + p->stride, s->M, s->any_l1);
}

static void sync_part(void *ud, unsigned pi, unsigned np)
{
    sgd *s = ud;
    for (uint64_t j = share(s->D, pi, np), e = share(s->D, pi + 1, np); j < e; j++)
        catch_up(s, &s->part[pi], j, s->t);
}

ll_code sgd_restore_step(sgd *s, uint64_t t, ll_err *err)
{
    size_t K = s->K, need = (size_t)(t + 2) * K;
    if (need > s->cap_lrsum) {
        double *q = mem_realloc_array(s->lrsum, need, sizeof(double));
        if (!q)
            return err_set(err, LL_E_NOMEM, "out of memory restoring a checkpoint");
        s->lrsum = q;
        s->cap_lrsum = need;
    }
    s->t = t;
    /* a checkpoint holds caught-up weights: every feature is current at step t, and the sums
     * of later learning rates start from row t */
    for (size_t k = 0; k < K; k++)
        s->lrsum[(size_t)t * K + k] = 0;
    for (uint64_t j = 0; j < s->D; j++)
        s->last[j] = t;
    s->synced = t;
    for (unsigned i = 0; i < s->nparts; i++)
        cache_clear(&s->part[i]);
    return LL_OK;
}

void sgd_sync(sgd *s)
{
    if (s->synced >= s->t)
        return; /* synced at this step already: an evaluation pass calls this per batch */
    uint64_t j = 0;
    while (j < s->D && s->last[j] >= s->t)
        j++;
    if (j < s->D) { /* else every feature is current (nothing pending) */
        run_parts(s, sync_part);
        for (j = 0; j < s->D; j++)
            if (s->last[j] < s->t)
                s->last[j] = s->t;
    }
    s->synced = s->t;
}

/* The three phases of a sparse step on s->jb, each split over the parts: the catch-up of
 * the touched features (chunks from a shared counter; part 0 transposes the batch first), the
 * forward pass and gradients (by row), the weight gradients and updates (by feature: each
 * gradient is gathered from the transposed batch, its rows in order). */
#define CU_CHUNK 256 /* touched features a part takes at a time in the catch-up phase */

static void transpose(sgd *s, const ll_batch *b, size_t nt);

/* Part 0 first transposes the batch (when the update phase gathers from it); every part then
 * takes chunks of the touched features from a shared counter: the hot features come first in
 * touched and rarely need a catch-up, so fixed halves would leave one part most of the work.
 * Each feature's catch-up depends on nothing but its own row, so who takes which chunk changes
 * no result. */
static void catchup_part(void *ud, unsigned pi, unsigned np)
{
    sgd *s = ud;
    size_t M = s->M, nt = s->jnt;
    const uint32_t *tch = s->touched;
    if (pi == 0 && s->jcsc)
        transpose(s, s->jb, nt);
    for (;;) {
        size_t q = __atomic_fetch_add(&s->cu_next, CU_CHUNK, __ATOMIC_RELAXED);
        if (q >= nt)
            break;
        size_t e = q + CU_CHUNK < nt ? q + CU_CHUNK : nt;
        for (; q < e; q++) {
            /* the touched rows are scattered: fetch a few ahead (their step, their weights) */
            if (q + 16 < e)
                __builtin_prefetch(&s->last[tch[q + 16]]);
            if (q + 8 < e && s->last[tch[q + 8]] < s->jT - 1)
                prefetch_row(s->W + (size_t)tch[q + 8] * M, M, 1);
            catch_up(s, &s->part[pi], tch[q], s->jT - 1);
        }
    }
}

static void rows_part(void *ud, unsigned pi, unsigned np)
{
    sgd *s = ud;
    size_t n = s->jb->n_rows, i0 = share(n, pi, np), i1 = share(n, pi + 1, np);
    forward_rows(s, s->jb, i0, i1);
    gradients_rows(s, &s->part[pi], s->jb, s->jy, i0, i1);
}

/* The first touched feature of part pi of np in the update phase: the parts' shares of the
 * work, a feature's entries (gathering its gradient) plus UPD_COST for its update, are about
 * equal. Hot features come first in s->touched (first seen, first listed), so equal numbers of
 * features would leave one part most of the entries. */
#define UPD_COST 8

static size_t update_split(const sgd *s, unsigned pi, unsigned np)
{
    size_t nt = s->jnt, lo = 0, hi = nt;
    const uint32_t *st = s->tstart;
    uint64_t want = ((uint64_t)st[nt] + (uint64_t)UPD_COST * nt) * pi / np;
    if (pi == 0 || pi == np)
        return pi == 0 ? 0 : nt;
    while (lo < hi) { /* the first q whose cost before it reaches want */
        size_t mid = lo + (hi - lo) / 2;
        if ((uint64_t)st[mid] + (uint64_t)UPD_COST * mid < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The weight gradients and updates of part pi's touched features: each gradient is gathered
 * from the feature's entries of the transposed batch (in row order) into the part's buffer,
 * then the optimizer steps the feature's row. */
SGD_VEC static void update_part(void *ud, unsigned pi, unsigned np)
{
    sgd *s = ud;
    const uint32_t *tch = s->touched, *st = s->tstart;
    size_t M = s->M, q0 = update_split(s, pi, np), q1 = update_split(s, pi + 1, np);
    float *g = s->part[pi].g;
    const float *l1 = s->any_l1 ? s->pl1 : NULL, *sc = s->sc->sc;
    uint64_t T = s->jT;
    for (size_t q = q0; q < q1; q++) {
        if (q + 6 < q1) { /* ~100 ns a feature: six ahead cover the loads from L3 */
            size_t o2 = (size_t)tch[q + 6] * M;
            __builtin_prefetch(&sc[tch[q + 6]]);
            prefetch_row(s->W + o2, M, 1);
            if (s->hv.optimizer != OPT_RMSPROP)
                prefetch_row(s->s1W + o2, M, 1);
            if (s->hv.optimizer != OPT_SGD)
                prefetch_row(s->s2W + o2, M, 1);
        }
        spk_gather(s->dZ, M, s->erow + st[q], s->ex + st[q], sc[tch[q]], st[q + 1] - st[q], g);
        size_t o = (size_t)tch[q] * M;
        update_vals(s, M, s->W + o, g, s->s1W + o, s->s2W + o, s->pw, s->pwd, l1);
        s->last[tch[q]] = T;
    }
}

/* The phases of a sparse step with one column (M == 1, one model of a binary classifier or
 * regressor), on the calling thread: the work of a batch is too small to share, and the calls
 * and loops per feature of the general phases cost more than the arithmetic. The same float
 * operations in the same order as catchup_part, rows_part and update_part (which give the same
 * result for any number of parts), so the model bytes do not change. */
SGD_VEC static void sparse_m1(sgd *s, const ll_batch *b, const float *y)
{
    const uint32_t *tch = s->touched;
    size_t nt = s->jnt, n = b->n_rows;
    uint64_t t1 = s->jT - 1, *last = s->last;
    float *W = s->W, *G = s->G;
    const float *sc = s->sc->sc;
    sgd_part *p = &s->part[0];
    int with_l1 = s->any_l1;
    for (size_t q = 0; q < nt; q++) { /* catch-up */
        if (q + 16 < nt)
            __builtin_prefetch(&last[tch[q + 16]]);
        if (q + 8 < nt)
            __builtin_prefetch(&W[tch[q + 8]], 1);
        uint32_t j = tch[q];
        uint64_t t0 = last[j];
        if (t0 >= t1)
            continue;
        const float *ca = catch_factors(s, p, t0, t1);
        decay_row(W + j, ca, ca + p->stride, 1, with_l1);
    }
    forward_m1(s, b);
    const uint32_t *idx = b->idx;
    const float *val = b->val;
    const size_t *off = b->off;
    gradients_rows(s, p, b, y, 0, n);
    for (size_t q = 0; q < nt; q++)
        G[tch[q]] = 0;
    const float *dZ = s->dZ;
    for (size_t i = 0; i < n; i++) { /* weight gradients */
        float dz = dZ[i];
        for (size_t k = off[i]; k < off[i + 1]; k++) {
            uint32_t j = idx[k];
            float x = val[k] * sc[j];
            G[j] += x * dz;
        }
    }
    const float *l1 = s->any_l1 ? s->pl1 : NULL;
    for (size_t q = 0; q < nt; q++) { /* updates */
        if (q + 4 < nt) {
            uint32_t j2 = tch[q + 4];
            __builtin_prefetch(&s->s1W[j2], 1);
            __builtin_prefetch(&s->s2W[j2], 1);
        }
        uint32_t j = tch[q];
        update_cols(s, 1, W + j, G + j, s->s1W + j, s->s2W + j, s->pw, s->pwd, l1); /* inline */
    }
}

static ll_code dist_step(sgd *s, size_t nt, int dense, size_t n, ll_err *err);

/* Room for a batch of nnz nonzeros transposed (tcnt, tstart, erow, ex). */
static ll_code ensure_entries(sgd *s, size_t nnz, ll_err *err)
{
    if (nnz <= s->cap_ent && s->tstart)
        return LL_OK;
    mem_free(s->epos);
    mem_free(s->tcnt);
    mem_free(s->tstart);
    mem_free(s->erow);
    mem_free(s->ex);
    s->epos = mem_alloc((nnz + 1) * sizeof(uint32_t));
    s->tcnt = mem_alloc((nnz + 1) * sizeof(uint32_t));
    s->tstart = mem_alloc((nnz + 1) * sizeof(uint32_t));
    s->erow = mem_alloc((nnz + 1) * sizeof(uint32_t));
    s->ex = mem_alloc((nnz + 1) * sizeof(float));
    s->cap_ent = nnz;
    if (!s->epos || !s->tcnt || !s->tstart || !s->erow || !s->ex) {
        s->cap_ent = 0;
        return err_set(err, LL_E_NOMEM, "out of memory for %zu batch entries", nnz);
    }
    return LL_OK;
}

/* The batch transposed for its nt touched features (epos: each nonzero's feature's place in
 * s->touched; tcnt: the entries of each feature): feature q's entries are tstart[q] ..
 * tstart[q + 1] - 1 of erow (its rows of the batch, in row order) and ex (its values). */
static void transpose(sgd *s, const ll_batch *b, size_t nt)
{
    uint32_t *cnt = s->tcnt, *st = s->tstart, *erow = s->erow, sum = 0;
    const uint32_t *epos = s->epos;
    const float *val = b->val;
    size_t k0 = b->off[0];
    float *ex = s->ex;
    for (size_t q = 0; q < nt; q++) { /* tcnt becomes each feature's next free entry */
        st[q] = sum;
        sum += cnt[q];
        cnt[q] = st[q];
    }
    st[nt] = sum;
    for (size_t i = 0; i < b->n_rows; i++)
        for (size_t k = b->off[i]; k < b->off[i + 1]; k++) {
            uint32_t e = cnt[epos[k - k0]]++;
            erow[e] = (uint32_t)i;
            ex[e] = val[k];
        }
}

/* Sparse step: only the features present in the batch (O(nnz x models)); the others catch up
 * when next used (catch_up) or at sgd_sync. */
static ll_code sparse_step(sgd *s, const ll_batch *b, const float *y, uint64_t row0, ll_err *err)
{
    size_t n = b->n_rows, M = s->M;
    uint64_t T = s->t + 1;
    size_t nnz = b->off[n] - b->off[0];
    if (nnz > s->cap_touched) {
        uint32_t *q = mem_realloc_array(s->touched, nnz, sizeof(uint32_t));
        if (!q)
            return err_set(err, LL_E_NOMEM, "out of memory for %zu feature indices", nnz);
        s->touched = q;
        s->cap_touched = nnz;
    }
    ll_code rc = check_rows(s, b, row0, err);
    if (rc == LL_OK)
        rc = ensure(&s->Z, &s->capZ, n * M, err);
    if (rc == LL_OK)
        rc = ensure(&s->dZ, &s->capdZ, n * M, err);
    if (rc == LL_OK)
        rc = ensure_rowloss(s, n, err);
    if (rc != LL_OK)
        return rc;
    int m1 = M == 1 && !s->allreduce;
    int csc = !m1 && !s->allreduce; /* the update phase gathers from the batch transposed */
    if (csc)
        rc = ensure_entries(s, nnz, err);
    if (rc != LL_OK)
        return rc;
    size_t nt = 0, q0 = b->off[0], q1 = b->off[n];
    sgd_mark *mark = s->mark; /* locals: the stores would make gcc reload s's fields */
    uint32_t *touched = s->touched, *epos = s->epos, *cnt = s->tcnt;
    const uint32_t *idx = b->idx;
    for (size_t q = q0; q < q1; q++) {
        uint32_t j = idx[q];
        if (q + 16 < q1)
            __builtin_prefetch(&mark[idx[q + 16]]);
        sgd_mark *mk = &mark[j];
        if (mk->step != T) {
            mk->step = T;
            mk->pos = (uint32_t)nt;
            if (csc)
                cnt[nt] = 0;
            touched[nt++] = j;
        }
        if (csc) {
            epos[q - q0] = mk->pos;
            cnt[mk->pos]++;
        }
    }
    s->jcsc = csc; /* catchup_part transposes the batch */
    s->cu_next = 0;
    s->jb = b;
    s->jy = y;
    s->jnt = nt;
    s->jT = T;
    s->lazy_steps = 1;
    if (m1) {
        s->t = T; /* step_sizes below needs the step; the phases need none of its values */
        step_sizes(s);
        sparse_m1(s, b, y);
    } else {
        run_parts(s, catchup_part);
        run_parts(s, rows_part);
    }
    loss_sums(s, b);
    memset(s->gB, 0, M * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        const float *dz = s->dZ + i * M;
        for (size_t m = 0; m < M; m++)
            s->gB[m] += dz[m];
    }
    if (s->allreduce) { /* across hosts: the touched features' gradient sums, then the sum */
        for (size_t q = 0; q < nt; q++)
            memset(s->G + (size_t)s->touched[q] * M, 0, M * sizeof(float));
        const float *sc = s->sc->sc;
        for (size_t i = 0; i < n; i++) {
            const float *dz = s->dZ + i * M;
            const float *v = b->val + b->off[i];
            const uint32_t *ix = b->idx + b->off[i];
            for (size_t k = 0; k < b->off[i + 1] - b->off[i]; k++) {
                float x = v[k] * sc[ix[k]], *g = s->G + (size_t)ix[k] * M;
                for (size_t m = 0; m < M; m++)
                    g[m] += x * dz[m];
            }
        }
        return dist_step(s, nt, 0, n, err);
    }
    if (!m1) {
        s->t = T;
        step_sizes(s);
        run_parts(s, update_part); /* it moves last[] of the touched features */
    } else {
        for (size_t q = 0; q < nt; q++)
            s->last[s->touched[q]] = T;
    }
    if (s->hv.use_bias)
        update_vals(s, M, s->B, s->gB, s->s1B, s->s2B, s->pb, s->pbwd, NULL);
    return step_done(s, err);
}

/* Across hosts: sums this host's gradient sums (every feature when dense, else the nt features
 * in s->touched) with the other hosts' in one buffer [gB | rows, dense, flag | marks D | G D*M],
 * then applies the step every host applies: dense when any host stepped densely, else to the
 * features some host touched (caught up here when this host did not see them). */
static ll_code dist_step(sgd *s, size_t nt, int dense, size_t n, ll_err *err)
{
    size_t M = s->M, D = (size_t)s->D, len = M + 3 + D + D * M;
    ll_code rc = ensure(&s->red, &s->cap_red, len, err);
    if (rc != LL_OK)
        return rc;
    float *gb = s->red, *hdr = gb + M, *mark = hdr + 3, *g = mark + D;
    memset(s->red, 0, len * sizeof(float));
    memcpy(gb, s->gB, M * sizeof(float));
    hdr[0] = (float)n;
    hdr[1] = dense && n > 0;
    hdr[2] = s->dist_flag;
    if (dense && n > 0)
        memcpy(g, s->G, D * M * sizeof(float));
    for (size_t q = 0; !dense && q < nt; q++) {
        size_t j = s->touched[q];
        mark[j] = 1;
        memcpy(g + j * M, s->G + j * M, M * sizeof(float));
    }
    rc = s->allreduce(s->red, len, err);
    if (rc != LL_OK)
        return rc;
    s->n_step = hdr[0];
    s->dist_flag = hdr[2];
    if (hdr[0] <= 0)
        return LL_OK;
    float inv = 1.0f / hdr[0];
    for (size_t m = 0; m < M; m++)
        s->gB[m] = gb[m] * inv;
    if (hdr[1] > 0) {
        sgd_sync(s);
        for (size_t i = 0; i < D * M; i++)
            s->G[i] = g[i] * inv;
        return update(s, err);
    }
    if (D > s->cap_touched) {
        uint32_t *q = mem_realloc_array(s->touched, D, sizeof(uint32_t));
        if (!q)
            return err_set(err, LL_E_NOMEM, "out of memory for %zu feature indices", D);
        s->touched = q;
        s->cap_touched = D;
    }
    uint64_t T = s->t + 1;
    nt = 0;
    for (size_t j = 0; j < D; j++) {
        if (mark[j] <= 0)
            continue;
        if (s->mark[j].step != T) { /* not in this host's rows: not caught up yet */
            s->mark[j].step = T;
            catch_up(s, &s->part[0], j, s->t);
        }
        s->touched[nt++] = (uint32_t)j;
        for (size_t m = 0; m < M; m++)
            s->G[j * M + m] = g[j * M + m] * inv;
    }
    s->t = T;
    step_sizes(s);
    const float *l1 = s->any_l1 ? s->pl1 : NULL;
    for (size_t q = 0; q < nt; q++) {
        size_t o = (size_t)s->touched[q] * M;
        update_vals(s, M, s->W + o, s->G + o, s->s1W + o, s->s2W + o, s->pw, s->pwd, l1);
        s->last[s->touched[q]] = T;
    }
    if (s->hv.use_bias)
        update_vals(s, M, s->B, s->gB, s->s1B, s->s2B, s->pb, s->pbwd, NULL);
    return step_done(s, err);
}

ll_code sgd_average(sgd *s, uint32_t n_hosts, ll_err *err)
{
    if (!s->allreduce || n_hosts < 2)
        return LL_OK;
    size_t M = s->M, DM = (size_t)s->D * M, len = 3 * DM + 3 * M + 1;
    ll_code rc = ensure(&s->red, &s->cap_red, len, err);
    if (rc != LL_OK)
        return rc;
    sgd_sync(s);
    float *parts[6] = {s->W, s->s1W, s->s2W, s->B, s->s1B, s->s2B};
    size_t lens[6] = {DM, DM, DM, M, M, M}, o = 0;
    for (int i = 0; i < 6; i++) {
        memcpy(s->red + o, parts[i], lens[i] * sizeof(float));
        o += lens[i];
    }
    s->red[o] = s->dist_flag;
    rc = s->allreduce(s->red, len, err);
    if (rc != LL_OK)
        return rc;
    s->dist_flag = s->red[o];
    float inv = 1.0f / (float)n_hosts;
    o = 0;
    for (int i = 0; i < 6; i++) {
        for (size_t q = 0; q < lens[i]; q++)
            parts[i][q] = s->red[o + q] * inv;
        o += lens[i];
    }
    return LL_OK;
}

SGD_VEC ll_code sgd_step(sgd *s, const ll_batch *b, const float *y, uint64_t row0, ll_err *err)
{
    size_t n = b->n_rows, M = s->M;
    uint64_t D = s->D;
    if (n == 0 && !s->allreduce)
        return LL_OK;
    if (n == 0 || !use_dense(s, b))
        return sparse_step(s, b, y, row0, err);
    sgd_sync(s);
    ll_code rc = sgd_forward(s, b, row0, err);
    if (rc == LL_OK)
        rc = ensure(&s->dZ, &s->capdZ, n * M, err);
    if (rc == LL_OK)
        rc = ensure_rowloss(s, n, err);
    if (rc != LL_OK)
        return rc;
    gradients(s, b, y);
    /* bias gradient: column sums */
    memset(s->gB, 0, M * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        const float *dz = s->dZ + i * M;
        for (size_t m = 0; m < M; m++)
            s->gB[m] += dz[m];
    }
    if (own_gemm(M))
        gemm_xtd(s->X, s->dZ, s->G, n, D, M, 0, D);
    else
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)D, (int)M, (int)n, 1.0f, s->X,
                    (int)D, s->dZ, (int)M, 0.0f, s->G, (int)M);
    if (s->allreduce)
        return dist_step(s, 0, 1, n, err);
    return update(s, err);
}

void sgd_unscale(sgd *s, size_t n_rows)
{
    if (s->hv.pred != LL_REGRESSOR)
        return;
    double ymu = s->sc->ymu, ysd = s->sc->ysd;
    for (size_t i = 0; i < n_rows * s->M; i++)
        s->Z[i] = (float)(s->Z[i] * ysd + ymu);
}

/* Rows [i0, i1) of an evaluation: each model's loss term of the row (before the row, class
 * and positive weights), logistic ones as floats in dZ, the others in rowloss. */
SGD_VEC static void eval_rows(sgd *s, const ll_batch *b, const float *y, size_t i0, size_t i1)
{
    size_t M = s->M;
    uint32_t C = s->C, K = s->K;
    for (size_t i = i0; i < i1; i++) {
        const float *z = s->Z + i * M;
        if (s->hv.loss == LOSS_LOGISTIC) {
            int pos = s->hv.pred == LL_BINARY_CLASSIFIER && y[i] > 0.5f;
            loss_logistic_value_n(z, K, pos ? 1.0f : 0.0f, s->dZ + i * K);
            continue;
        }
        double *t = s->rowloss + i * K;
        for (uint32_t k = 0; k < K; k++)
            t[k] = C > 1 ? loss_softmax(z + (size_t)k * C, C, (uint32_t)y[i], NULL)
                         : loss_eval(&s->lp_raw, z[k], y[i], NULL);
    }
}

ll_code sgd_eval(sgd *s, const ll_batch *b, const float *y, uint64_t row0, double *loss,
                 double *wsum, ll_err *err)
{
    sgd_sync(s);
    ll_code rc = sgd_forward(s, b, row0, err);
    if (rc == LL_OK)
        rc = ensure(&s->dZ, &s->capdZ, b->n_rows * s->M, err);
    if (rc == LL_OK)
        rc = ensure_rowloss(s, b->n_rows, err);
    if (rc != LL_OK)
        return rc;
    sgd_unscale(s, b->n_rows);
    eval_rows(s, b, y, 0, b->n_rows);
    uint32_t C = s->C, K = s->K;
    for (size_t i = 0; i < b->n_rows; i++) {
        double rw = b->weight ? b->weight[i] : 1.0;
        *wsum += rw;
        /* the objective each model is trained on: class weights included */
        double cw = C > 1 && s->cw ? s->cw[(uint32_t)y[i]] : 1.0;
        int pos = s->hv.pred == LL_BINARY_CLASSIFIER && y[i] > 0.5f;
        if (s->hv.loss == LOSS_LOGISTIC) {
            const float *l = s->dZ + i * K;
            for (uint32_t k = 0; k < K; k++)
                loss[k] += rw * (pos ? s->posw[k] : 1.0f) * l[k];
            continue;
        }
        const double *t = s->rowloss + i * K;
        for (uint32_t k = 0; k < K; k++)
            loss[k] += rw * cw * (pos ? s->cfg[k].posw : 1.0) * t[k];
    }
    return LL_OK;
}

void sgd_epoch_begin(sgd *s)
{
    memset(s->tl, 0, s->K * sizeof *s->tl);
    s->tw = 0;
}

ll_code sgd_snapshot(sgd *s, uint32_t k, ll_err *err)
{
    size_t M = s->M;
    uint32_t C = s->C;
    sgd_sync(s);
    if (!s->bestW) {
        s->bestW = mem_alloc((size_t)s->D * M * sizeof(float));
        s->bestB = mem_alloc(M * sizeof(float));
        if (!s->bestW || !s->bestB)
            return err_set(err, LL_E_NOMEM, "out of memory for the best-model snapshot");
    }
    for (uint64_t j = 0; j < s->D; j++)
        memcpy(s->bestW + j * M + (size_t)k * C, s->W + j * M + (size_t)k * C, C * sizeof(float));
    memcpy(s->bestB + (size_t)k * C, s->B + (size_t)k * C, C * sizeof(float));
    return LL_OK;
}

void sgd_restore(sgd *s, uint32_t k)
{
    size_t M = s->M;
    uint32_t C = s->C;
    if (!s->bestW)
        return;
    sgd_sync(s);
    for (uint64_t j = 0; j < s->D; j++)
        memcpy(s->W + j * M + (size_t)k * C, s->bestW + j * M + (size_t)k * C, C * sizeof(float));
    memcpy(s->B + (size_t)k * C, s->bestB + (size_t)k * C, C * sizeof(float));
}

void sgd_unfold(sgd *s, uint32_t k, const float *w, const float *b)
{
    size_t M = s->M;
    uint32_t C = s->C;
    const float *sc = s->sc->sc, *mu = s->sc->mu;
    double ymu = s->sc->ymu, ysd = s->sc->ysd;
    for (uint32_t c = 0; c < C; c++) {
        double shift = 0;
        for (uint64_t j = 0; j < s->D; j++) {
            double d = (double)sc[j] * ysd;
            double wj = d != 0 ? w[j * C + c] / d : 0;
            s->W[j * M + (size_t)k * C + c] = (float)wj;
            if (mu)
                shift += wj * sc[j] * mu[j];
        }
        s->B[(size_t)k * C + c] = (float)((b[c] - ymu) / ysd + shift);
    }
}

void sgd_fold(const sgd *s, uint32_t k, float *w, float *b)
{
    size_t M = s->M;
    uint32_t C = s->C;
    const float *sc = s->sc->sc, *mu = s->sc->mu;
    double ymu = s->sc->ymu, ysd = s->sc->ysd;
    for (uint32_t c = 0; c < C; c++) {
        double shift = 0;
        for (uint64_t j = 0; j < s->D; j++) {
            double wj = s->W[j * M + (size_t)k * C + c];
            w[j * C + c] = (float)(wj * sc[j] * ysd);
            if (mu)
                shift += wj * sc[j] * mu[j];
        }
        b[c] = (float)(ysd * (s->B[(size_t)k * C + c] - shift) + ymu);
    }
}
