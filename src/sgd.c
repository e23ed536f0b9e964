/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgd.c - the K-model trainer: forward pass (sgemm for dense batches, a CSR kernel for sparse
 * ones), loss gradients, backward pass, and the sgd/adam/rmsprop updates with L2 (wd), a
 * proximal L1 step (weights reach exact zeros) and the step-wise learning-rate scheduler.
 * The spread of per-model settings is documented in docs/TRAINING.md.
 */
#include "sgd.h"
#include "err.h"
#include "mem.h"
#include <cblas.h>
#include <math.h>
#include <string.h>

#define ADAM_EPS 1e-8
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
    static const double lr_mult[4] = {1, 0.5, 2, 4};
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
    s->W = mem_alloc(DM * sizeof(float));
    s->G = mem_alloc(DM * sizeof(float));
    s->s1W = mem_calloc(DM, sizeof(float));
    s->s2W = mem_calloc(DM, sizeof(float));
    s->B = mem_alloc(s->M * sizeof(float));
    s->gB = mem_alloc(s->M * sizeof(float));
    s->s1B = mem_calloc(s->M, sizeof(float));
    s->s2B = mem_calloc(s->M, sizeof(float));
    s->cfg = mem_calloc(s->K, sizeof *s->cfg);
    s->lr = mem_calloc(s->K, sizeof *s->lr);
    s->tl = mem_calloc(s->K, sizeof *s->tl);
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
    }
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

void sgd_deinit(sgd *s)
{
    float *fs[] = {s->W,  s->B, s->s1W, s->s2W, s->s1B,   s->s2B,   s->G, s->gB,
                   s->cw, s->X, s->Z,   s->dZ,  s->bestW, s->bestB, s->yb};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        mem_free(fs[i]);
    mem_free(s->cfg);
    mem_free(s->lr);
    mem_free(s->tl);
    memset(s, 0, sizeof *s);
}

static ll_code ensure(float **p, size_t *cap, size_t n, ll_err *err)
{
    if (n <= *cap)
        return LL_OK;
    float *q = mem_realloc_array(*p, n, sizeof(float));
    if (!q)
        return err_set(err, LL_E_NOMEM, "out of memory for %zu floats", n);
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

/* Whether the batch goes through the dense path (X holds the scaled rows). */
static int use_dense(const sgd *s, const ll_batch *b)
{
    return b->dense || s->sc->shift;
}

ll_code sgd_forward(sgd *s, const ll_batch *b, uint64_t row0, ll_err *err)
{
    size_t n = b->n_rows, M = s->M;
    uint64_t D = s->D;
    ll_code rc = check_rows(s, b, row0, err);
    if (rc == LL_OK)
        rc = ensure(&s->Z, &s->capZ, n * M, err);
    if (rc != LL_OK || n == 0)
        return rc;
    const float *sc = s->sc->sc, *mu = s->sc->mu;
    for (size_t i = 0; i < n; i++)
        memcpy(s->Z + i * M, s->B, M * sizeof(float));
    if (use_dense(s, b)) {
        rc = ensure(&s->X, &s->capX, n * D, err);
        if (rc != LL_OK)
            return rc;
        for (size_t i = 0; i < n; i++) {
            float *x = s->X + i * D;
            const float *v = b->val + b->off[i];
            if (b->sparse[i]) {
                memset(x, 0, D * sizeof(float));
                const uint32_t *ix = b->idx + b->off[i];
                for (size_t k = 0; k < b->off[i + 1] - b->off[i]; k++)
                    x[ix[k]] = v[k];
            } else {
                memcpy(x, v, D * sizeof(float));
            }
            if (mu)
                for (uint64_t j = 0; j < D; j++)
                    x[j] = (x[j] - mu[j]) * sc[j];
            else
                for (uint64_t j = 0; j < D; j++)
                    x[j] *= sc[j];
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)M, (int)D, 1.0f, s->X,
                    (int)D, s->W, (int)M, 1.0f, s->Z, (int)M);
        return LL_OK;
    }
    for (size_t i = 0; i < n; i++) {
        float *z = s->Z + i * M;
        const float *v = b->val + b->off[i];
        const uint32_t *ix = b->idx + b->off[i];
        size_t nv = b->off[i + 1] - b->off[i];
        for (size_t k = 0; k < nv; k++) {
            uint32_t j = ix[k];
            float x = v[k] * sc[j];
            const float *w = s->W + (size_t)j * M;
            for (size_t m = 0; m < M; m++)
                z[m] += x * w[m];
        }
    }
    return LL_OK;
}

/* dZ = dLoss/dZ (weighted, divided by n) for the batch; adds the losses to tl. */
static void gradients(sgd *s, const ll_batch *b, const float *y)
{
    size_t n = b->n_rows, M = s->M;
    uint32_t C = s->C;
    const hp_values *hv = &s->hv;
    double ymu = s->sc->ymu, ysd = s->sc->ysd;
    float inv = 1.0f / (float)n;
    for (size_t i = 0; i < n; i++) {
        double rw = b->weight ? b->weight[i] : 1.0;
        const float *z = s->Z + i * M;
        float *dz = s->dZ + i * M;
        s->tw += rw;
        if (hv->pred == LL_MULTICLASS_CLASSIFIER) {
            uint32_t t = (uint32_t)y[i];
            double f = rw * (s->cw ? s->cw[t] : 1.0);
            for (uint32_t k = 0; k < s->K; k++) {
                s->tl[k] += rw * loss_softmax(z + (size_t)k * C, C, t, dz + (size_t)k * C);
                for (uint32_t c = 0; c < C; c++)
                    dz[(size_t)k * C + c] *= (float)f * inv;
            }
        } else {
            double yy = hv->pred == LL_REGRESSOR ? (y[i] - ymu) / ysd : y[i];
            int pos = hv->pred == LL_BINARY_CLASSIFIER && y[i] > 0.5f;
            for (uint32_t k = 0; k < s->K; k++) {
                double d;
                s->tl[k] += rw * loss_eval(&s->lp_scaled, z[k], yy, &d);
                double f = rw * (pos ? s->cfg[k].posw : 1.0);
                dz[k] = (float)(d * f) * inv;
            }
        }
    }
}

static void update(sgd *s)
{
    const hp_values *hv = &s->hv;
    size_t M = s->M;
    uint32_t C = s->C;
    uint64_t D = s->D;
    s->t++;
    double b1 = hv->beta_1, b2 = hv->beta_2;
    double c1 = 1 - pow(b1, (double)s->t), c2 = 1 - pow(b2, (double)s->t);
    for (uint32_t k = 0; k < s->K; k++) {
        const sgd_cfg *cf = &s->cfg[k];
        double lr = s->lr[k];
        for (int isb = 0; isb < 2; isb++) {
            if (isb && !hv->use_bias)
                continue;
            double lrx = isb ? lr * hv->bias_lr_mult : lr;
            double wd = isb ? cf->wd * hv->bias_wd_mult : cf->wd;
            double l1 = isb ? 0 : cf->l1 * lrx;
            uint64_t rows = isb ? 1 : D;
            float *W = isb ? s->B : s->W, *G = isb ? s->gB : s->G;
            float *m1 = isb ? s->s1B : s->s1W, *m2 = isb ? s->s2B : s->s2W;
            double step = hv->optimizer == OPT_ADAM ? lrx * sqrt(c2) / c1 : lrx;
            for (uint64_t j = 0; j < rows; j++) {
                size_t base = (size_t)j * M + (size_t)k * C;
                for (uint32_t c = 0; c < C; c++) {
                    size_t i = base + c;
                    double w = W[i], g = G[i] + wd * w;
                    switch (hv->optimizer) {
                    case OPT_ADAM:
                        m1[i] = (float)(b1 * m1[i] + (1 - b1) * g);
                        m2[i] = (float)(b2 * m2[i] + (1 - b2) * g * g);
                        w -= step * m1[i] / (sqrt(m2[i]) + ADAM_EPS);
                        break;
                    case OPT_RMSPROP:
                        m2[i] = (float)(RMSPROP_RHO * m2[i] + (1 - RMSPROP_RHO) * g * g);
                        w -= step * g / (sqrt(m2[i]) + ADAM_EPS);
                        break;
                    case OPT_SGD:
                        m1[i] = (float)(hv->momentum * m1[i] - step * g);
                        w += m1[i];
                        break;
                    }
                    if (l1 > 0)
                        w = w > l1 ? w - l1 : w < -l1 ? w + l1 : 0.0;
                    W[i] = (float)w;
                }
            }
        }
        if (hv->use_lr_scheduler && hv->lr_scheduler_step && s->t % hv->lr_scheduler_step == 0) {
            double nl = s->lr[k] * hv->lr_scheduler_factor;
            double floor_lr = fmin(hv->lr_scheduler_minimum_lr, s->lr[k]);
            s->lr[k] = nl > floor_lr ? nl : floor_lr;
        }
    }
}

ll_code sgd_step(sgd *s, const ll_batch *b, const float *y, uint64_t row0, ll_err *err)
{
    size_t n = b->n_rows, M = s->M;
    uint64_t D = s->D;
    if (n == 0)
        return LL_OK;
    ll_code rc = sgd_forward(s, b, row0, err);
    if (rc == LL_OK)
        rc = ensure(&s->dZ, &s->capdZ, n * M, err);
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
    if (use_dense(s, b)) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)D, (int)M, (int)n, 1.0f, s->X,
                    (int)D, s->dZ, (int)M, 0.0f, s->G, (int)M);
    } else {
        memset(s->G, 0, (size_t)D * M * sizeof(float));
        const float *sc = s->sc->sc;
        for (size_t i = 0; i < n; i++) {
            const float *dz = s->dZ + i * M;
            const float *v = b->val + b->off[i];
            const uint32_t *ix = b->idx + b->off[i];
            size_t nv = b->off[i + 1] - b->off[i];
            for (size_t k = 0; k < nv; k++) {
                uint32_t j = ix[k];
                float x = v[k] * sc[j];
                float *g = s->G + (size_t)j * M;
                for (size_t m = 0; m < M; m++)
                    g[m] += x * dz[m];
            }
        }
    }
    update(s);
    return LL_OK;
}

void sgd_unscale(sgd *s, size_t n_rows)
{
    if (s->hv.pred != LL_REGRESSOR)
        return;
    double ymu = s->sc->ymu, ysd = s->sc->ysd;
    for (size_t i = 0; i < n_rows * s->M; i++)
        s->Z[i] = (float)(s->Z[i] * ysd + ymu);
}

ll_code sgd_eval(sgd *s, const ll_batch *b, const float *y, uint64_t row0, double *loss,
                 double *wsum, ll_err *err)
{
    ll_code rc = sgd_forward(s, b, row0, err);
    if (rc != LL_OK)
        return rc;
    sgd_unscale(s, b->n_rows);
    size_t M = s->M;
    uint32_t C = s->C;
    for (size_t i = 0; i < b->n_rows; i++) {
        double rw = b->weight ? b->weight[i] : 1.0;
        const float *z = s->Z + i * M;
        *wsum += rw;
        /* the objective each model is trained on: class weights included */
        double cw = C > 1 && s->cw ? s->cw[(uint32_t)y[i]] : 1.0;
        int pos = s->hv.pred == LL_BINARY_CLASSIFIER && y[i] > 0.5f;
        for (uint32_t k = 0; k < s->K; k++)
            loss[k] += rw * cw * (pos ? s->cfg[k].posw : 1.0) *
                       (C > 1 ? loss_softmax(z + (size_t)k * C, C, (uint32_t)y[i], NULL)
                              : loss_eval(&s->lp_raw, z[k], y[i], NULL));
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
    for (uint64_t j = 0; j < s->D; j++)
        memcpy(s->W + j * M + (size_t)k * C, s->bestW + j * M + (size_t)k * C, C * sizeof(float));
    memcpy(s->B + (size_t)k * C, s->bestB + (size_t)k * C, C * sizeof(float));
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
