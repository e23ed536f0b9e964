/* SPDX-License-Identifier: Apache-2.0 */
/*
 * history.c - the training run's record for people (history.h): learning curves of every
 * model, selection values, and the selected model's confusion matrices, ROC/PR points and
 * regression samples, written as the metrics JSON's "history" object (docs/REPORT.md).
 */
#include "history.h"
#include "err.h"
#include "mem.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

ll_code hist_init(hist *h, const hp_values *hv, const sgd *s, const char *objective,
                  const char *criterion, int crit_higher, const ll_train_opts *o, ll_err *err)
{
    memset(h, 0, sizeof *h);
    h->o = o;
    h->t_last = mono_s();
    h->pred = hv->pred;
    h->K = s->K;
    h->C = hv->pred == LL_BINARY_CLASSIFIER       ? 2
           : hv->pred == LL_MULTICLASS_CLASSIFIER ? hv->num_classes
                                                  : 1;
    h->sigmoid = hv->loss == LOSS_LOGISTIC;
    h->objective = objective;
    h->criterion = criterion;
    h->crit_higher = crit_higher;
    h->epochs = (uint32_t)hv->epochs;
    h->cfg = mem_alloc(h->K * sizeof *h->cfg);
    h->sel_loss = mem_alloc(h->K * sizeof(double));
    h->sel_value = mem_alloc(h->K * sizeof(double));
    if (!h->cfg || !h->sel_loss || !h->sel_value) {
        hist_deinit(h);
        return err_set(err, LL_E_NOMEM, "out of memory for the training history");
    }
    memcpy(h->cfg, s->cfg, h->K * sizeof *h->cfg);
    for (uint32_t k = 0; k < h->K; k++)
        h->sel_loss[k] = h->sel_value[k] = NAN;
    return LL_OK;
}

void hist_deinit(hist *h)
{
    mem_free(h->cfg);
    mem_free(h->sel_loss);
    mem_free(h->sel_value);
    mem_free(h->tr);
    mem_free(h->va);
    mem_free(h->cr);
    mem_free(h->crit_best);
    mem_free(h->secs);
    mem_free(h->rows);
    for (int c = 0; c < 3; c++) {
        hist_chan *hc = &h->ch[c];
        mem_free(hc->cm);
        mem_free(hc->sc);
        mem_free(hc->lab);
        mem_free(hc->wt);
        mem_free(hc->pred);
        mem_free(hc->act);
    }
    memset(h, 0, sizeof *h);
}

static int grow(double **p, size_t n)
{
    double *q = mem_realloc_array(*p, n, sizeof **p);
    if (!q)
        return 0;
    *p = q;
    return 1;
}

void hist_epoch(hist *h, uint32_t e, const double *tl, double tw, const double *va,
                const double *cr, double crit, double rows, double rows_per_s)
{
    uint32_t K = h->K;
    if (!K)
        return;
    double now = mono_s(), secs = now - h->t_last;
    h->t_last = now;
    if (h->n_ep == h->cap_ep) {
        uint32_t c = h->cap_ep ? h->cap_ep * 2 : 16;
        if (!grow(&h->tr, (size_t)c * K) || !grow(&h->va, (size_t)c * K) ||
            !grow(&h->cr, (size_t)c * K) || !grow(&h->crit_best, c) || !grow(&h->secs, c) ||
            !grow(&h->rows, c))
            return;
        h->cap_ep = c;
    }
    uint32_t i = h->n_ep++;
    double tmin = INFINITY, vmin = INFINITY;
    for (uint32_t k = 0; k < K; k++) {
        double l = tw > 0 ? tl[k] / tw : 0;
        h->tr[(size_t)i * K + k] = l;
        h->va[(size_t)i * K + k] = va ? va[k] : NAN;
        h->cr[(size_t)i * K + k] = cr ? cr[k] : NAN;
        if (l < tmin)
            tmin = l;
        if (va && va[k] < vmin)
            vmin = va[k];
    }
    h->has_va |= va != NULL;
    h->has_cr |= cr != NULL;
    h->crit_best[i] = crit;
    h->secs[i] = secs;
    h->rows[i] = rows;
    if (h->o && h->o->epoch) {
        double total = 0;
        for (uint32_t j = 0; j <= i; j++)
            total += h->secs[j];
        ll_epoch_info inf;
        memset(&inf, 0, sizeof inf);
        inf.epoch = e;
        inf.epochs = h->epochs;
        inf.train_objective = tmin;
        inf.validation_objective = va ? vmin : NAN;
        inf.objective = h->objective;
        inf.criterion = h->criterion;
        inf.criterion_value = crit;
        inf.rows_per_s = rows_per_s;
        inf.seconds = secs;
        inf.eta_s = e + 1 < h->epochs ? total / (i + 1) * (h->epochs - e - 1) : 0;
        h->o->epoch(h->o->ud, &inf);
    }
}

void hist_batch(hist *h, uint32_t e, double rows)
{
    if (!h->o || !h->o->progress || h->n_ep == 0 || !(h->rows[h->n_ep - 1] > 0) || !h->epochs)
        return;
    double f = rows / h->rows[h->n_ep - 1];
    if (f > 1)
        f = 1;
    h->o->progress(h->o->ud, (e + f) / h->epochs * 0.999);
}

void hist_select(hist *h, uint32_t k, double loss, double value)
{
    if (k < h->K) {
        h->sel_loss[k] = loss;
        h->sel_value[k] = value;
    }
}

static double sigm(double z)
{
    if (z >= 0)
        return 1 / (1 + exp(-z));
    double e = exp(z);
    return e / (1 + e);
}

/* xorshift64: a fixed sequence, so the same run writes the same sample */
static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

void hist_rows(hist *h, int ch, const float *z, const float *y, const float *w, size_t n, float thr)
{
    if (ch < 0 || ch > 2 || !h->K)
        return;
    hist_chan *hc = &h->ch[ch];
    uint32_t C = h->C;
    if (!hc->on) {
        hc->on = 1;
        if (h->pred != LL_REGRESSOR && C <= HIST_MAX_CLASSES)
            hc->cm = mem_calloc((size_t)C * C, sizeof(double));
        if (h->pred == LL_BINARY_CLASSIFIER) {
            hc->sc = mem_alloc(HIST_MAX_SCORES * sizeof(float));
            hc->lab = mem_alloc(HIST_MAX_SCORES * sizeof(float));
            hc->wt = mem_alloc(HIST_MAX_SCORES * sizeof(float));
            if (!hc->sc || !hc->lab || !hc->wt) {
                mem_free(hc->sc);
                mem_free(hc->lab);
                mem_free(hc->wt);
                hc->sc = hc->lab = hc->wt = NULL;
            }
        }
        if (h->pred == LL_REGRESSOR) {
            hc->pred = mem_alloc(HIST_SAMPLES * sizeof(float));
            hc->act = mem_alloc(HIST_SAMPLES * sizeof(float));
            if (!hc->pred || !hc->act) {
                mem_free(hc->pred);
                mem_free(hc->act);
                hc->pred = hc->act = NULL;
            }
        }
        h->thr = thr;
    }
    uint32_t nout = h->pred == LL_MULTICLASS_CLASSIFIER ? C : 1;
    for (size_t i = 0; i < n; i++) {
        const float *zi = z + i * nout;
        double wi = w ? w[i] : 1.0;
        hc->rows += 1;
        if (h->pred == LL_BINARY_CLASSIFIER) {
            double s = h->sigmoid ? sigm(zi[0]) : zi[0];
            int p = s > thr, a = y[i] != 0;
            if (hc->cm)
                hc->cm[a * 2 + p] += wi;
            if (hc->sc && hc->n < HIST_MAX_SCORES) {
                hc->sc[hc->n] = (float)s;
                hc->lab[hc->n] = (float)a;
                hc->wt[hc->n] = (float)wi;
                hc->n++;
            }
        } else if (h->pred == LL_MULTICLASS_CLASSIFIER) {
            uint32_t best = 0;
            for (uint32_t c = 1; c < C; c++)
                if (zi[c] > zi[best])
                    best = c;
            uint32_t a = (uint32_t)y[i];
            if (hc->cm && a < C)
                hc->cm[(size_t)a * C + best] += wi;
        } else if (hc->pred) {
            /* reservoir sample of (predicted, actual) */
            uint64_t j = hc->seen++;
            if (hc->ns < HIST_SAMPLES) {
                hc->pred[hc->ns] = zi[0];
                hc->act[hc->ns] = y[i];
                hc->ns++;
            } else {
                uint64_t r = rnd(&hc->rng) % (j + 1);
                if (r < HIST_SAMPLES) {
                    hc->pred[r] = zi[0];
                    hc->act[r] = y[i];
                }
            }
        }
    }
}

/* JSON numbers: non-finite values become null */
static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *num_array(const double *v, size_t n, size_t stride)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, num(v[i * stride]));
    return a;
}

typedef struct scored {
    float s, y, w;
} scored;

static int by_score_desc(const void *a, const void *b)
{
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return x > y ? -1 : x < y ? 1 : 0;
}

/* ROC and PR points of one channel's kept scores: "predicted 1 when score > threshold" at each
 * distinct score, thinned to HIST_ROC_POINTS, plus the point at the tuned threshold. */
static json_t *roc_json(const hist_chan *hc, float thr)
{
    size_t n = hc->n;
    scored *v = n ? mem_alloc(n * sizeof *v) : NULL;
    if (!v)
        return NULL;
    double P = 0, N = 0;
    for (size_t i = 0; i < n; i++) {
        v[i].s = hc->sc[i];
        v[i].y = hc->lab[i];
        v[i].w = hc->wt[i];
        if (v[i].y != 0)
            P += v[i].w;
        else
            N += v[i].w;
    }
    qsort(v, n, sizeof *v, by_score_desc);
    /* point j predicts 1 for the rows before the j-th distinct score (scores > it); the last
     * point predicts 1 for every row */
    double *pt = mem_alloc((n + 1) * 4 * sizeof(double));
    if (!pt) {
        mem_free(v);
        return NULL;
    }
    size_t npts = 0, i = 0;
    double tp = 0, fp = 0;
    for (;;) {
        double *q = pt + npts++ * 4;
        q[0] = i < n ? (double)v[i].s : (double)v[n - 1].s - 1.0;
        q[1] = N > 0 ? fp / N : 0;
        q[2] = P > 0 ? tp / P : 0;
        q[3] = tp + fp > 0 ? tp / (tp + fp) : 1;
        if (i >= n)
            break;
        float s = v[i].s;
        while (i < n && v[i].s == s) {
            if (v[i].y != 0)
                tp += v[i].w;
            else
                fp += v[i].w;
            i++;
        }
    }
    size_t want = npts < HIST_ROC_POINTS ? npts : HIST_ROC_POINTS;
    json_t *th = json_array(), *fpr = json_array(), *tpr = json_array(), *prec = json_array();
    for (size_t k = 0; k < want; k++) {
        size_t jj =
            want > 1 ? (size_t)((double)k * (double)(npts - 1) / (double)(want - 1) + 0.5) : 0;
        const double *q = pt + jj * 4;
        json_array_append_new(th, json_real(q[0]));
        json_array_append_new(fpr, json_real(q[1]));
        json_array_append_new(tpr, json_real(q[2]));
        json_array_append_new(prec, json_real(q[3]));
    }
    mem_free(pt);
    double ttp = 0, tfp = 0;
    for (size_t k = 0; k < n; k++)
        if (v[k].s > thr) {
            if (v[k].y != 0)
                ttp += v[k].w;
            else
                tfp += v[k].w;
        }
    mem_free(v);
    json_t *r = json_object();
    json_object_set_new(r, "rows", json_integer((json_int_t)n));
    json_object_set_new(r, "threshold", th);
    json_object_set_new(r, "fpr", fpr);
    json_object_set_new(r, "tpr", tpr);
    json_object_set_new(r, "precision", prec);
    json_t *at = json_object();
    json_object_set_new(at, "threshold", json_real(thr));
    json_object_set_new(at, "fpr", json_real(N > 0 ? tfp / N : 0));
    json_object_set_new(at, "tpr", json_real(P > 0 ? ttp / P : 0));
    json_object_set_new(at, "precision", json_real(ttp + tfp > 0 ? ttp / (ttp + tfp) : 1));
    json_object_set_new(at, "recall", json_real(P > 0 ? ttp / P : 0));
    json_object_set_new(r, "at_threshold", at);
    return r;
}

static const char *PRED_NAME[] = {"binary_classifier", "multiclass_classifier", "regressor"};

json_t *hist_json(const hist *h, const char *const src[3], double seconds, double rows_per_s)
{
    static const char *CH[3] = {"train", "validation", "test"};
    uint32_t K = h->K;
    json_t *j = json_object();
    json_object_set_new(j, "schema", json_integer(1));
    json_object_set_new(j, "predictor_type",
                        json_string(h->pred == LL_BINARY_CLASSIFIER       ? PRED_NAME[0]
                                    : h->pred == LL_MULTICLASS_CLASSIFIER ? PRED_NAME[1]
                                                                          : PRED_NAME[2]));
    json_object_set_new(j, "num_classes", json_integer(h->C));
    json_object_set_new(j, "objective", json_string(h->objective ? h->objective : ""));
    json_object_set_new(j, "criterion", json_string(h->criterion ? h->criterion : ""));
    json_object_set_new(j, "criterion_higher_is_better", json_boolean(h->crit_higher));

    json_t *run = json_object();
    for (int c = 0; c < 3; c++)
        if (src && src[c])
            json_object_set_new(run, CH[c], json_string(src[c]));
    json_object_set_new(run, "seconds", num(seconds));
    json_object_set_new(run, "rows_per_second", num(rows_per_s));
    char ts[40];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_object_set_new(run, "finished", json_string(ts));
    json_object_set_new(run, "version", json_string(LL_VERSION));
    json_object_set_new(j, "run", run);

    json_t *models = json_array();
    for (uint32_t k = 0; k < K; k++) {
        json_t *m = json_object();
        json_object_set_new(m, "model", json_integer(k));
        json_object_set_new(m, "learning_rate", num(h->cfg[k].lr));
        json_object_set_new(m, "wd", num(h->cfg[k].wd));
        json_object_set_new(m, "l1", num(h->cfg[k].l1));
        if (h->pred == LL_BINARY_CLASSIFIER)
            json_object_set_new(m, "positive_example_weight_mult", num(h->cfg[k].posw));
        json_object_set_new(m, "selection_loss", num(h->sel_loss[k]));
        json_object_set_new(m, "selection_value", num(h->sel_value[k]));
        json_array_append_new(models, m);
    }
    json_object_set_new(j, "models", models);

    json_t *eps = json_array();
    for (uint32_t i = 0; i < h->n_ep; i++) {
        json_t *e = json_object();
        json_object_set_new(e, "epoch", json_integer(i));
        json_object_set_new(e, "seconds", num(h->secs[i]));
        json_object_set_new(e, "rows", num(h->rows[i]));
        json_object_set_new(e, "train", num_array(h->tr + (size_t)i * K, K, 1));
        if (h->has_va)
            json_object_set_new(e, "validation", num_array(h->va + (size_t)i * K, K, 1));
        if (h->has_cr)
            json_object_set_new(e, "criterion", num_array(h->cr + (size_t)i * K, K, 1));
        json_object_set_new(e, "criterion_best", num(h->crit_best[i]));
        json_array_append_new(eps, e);
    }
    json_object_set_new(j, "epochs", eps);

    json_t *chs = json_object();
    for (int c = 0; c < 3; c++) {
        const hist_chan *hc = &h->ch[c];
        if (!hc->on)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "rows", num(hc->rows));
        if (hc->cm) {
            json_t *cm = json_object(), *labels = json_array(), *mat = json_array();
            for (uint32_t a = 0; a < h->C; a++) {
                json_array_append_new(labels, json_integer(a));
                json_array_append_new(mat, num_array(hc->cm + (size_t)a * h->C, h->C, 1));
            }
            json_object_set_new(cm, "labels", labels);
            json_object_set_new(cm, "matrix", mat);
            json_object_set_new(o, "confusion", cm);
        }
        if (hc->sc && hc->n) {
            json_t *roc = roc_json(hc, h->thr);
            if (roc)
                json_object_set_new(o, "roc", roc);
        }
        if (hc->pred && hc->ns) {
            json_t *s = json_object(), *p = json_array(), *a = json_array();
            for (size_t i = 0; i < hc->ns; i++) {
                json_array_append_new(p, num(hc->pred[i]));
                json_array_append_new(a, num(hc->act[i]));
            }
            json_object_set_new(s, "predicted", p);
            json_object_set_new(s, "actual", a);
            json_object_set_new(o, "samples", s);
        }
        json_object_set_new(chs, CH[c], o);
    }
    json_object_set_new(j, "channels", chs);
    return j;
}
