/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics.c - streaming accumulators for the binary, multiclass and regression metrics of spec
 * §4 (names as SageMaker prints and scrapes them), ROC AUC and threshold calibration.
 * Binary metrics keep every (score, label, weight) for the AUC, up to METRICS_MAX_ROWS rows.
 *
 * SageMaker's 2024 containers add binary_balanced_accuracy, binary_log_loss and (changed)
 * multiclass_log_loss. Their values in real logs (binary_balanced_accuracy exactly 0.5 beside an
 * accuracy of 0.711; binary_log_loss 0.6623 and multiclass_log_loss 0.6215 where the objective is
 * 0.5551 and 0.1778) fit one reading only: the sigmoid (softmax) is applied to the model's output
 * a second time, so the probability p becomes sigmoid(p) in (0.5, 0.731) and every row is
 * predicted positive. We compute them that way (docs/TRAINING.md, "Metrics"):
 *   binary_log_loss = mean of -[y ln q + (1-y) ln(1-q)], q = sigmoid(score);
 *   binary_balanced_accuracy = mean recall of the classes present, predicting q > 0.5;
 *   multiclass_log_loss = mean of -ln softmax(softmax(z))[y]. All three print as <score>=.
 */
#include "metrics.h"
#include "cpu.h"
#include "err.h"
#include "mem.h"
#include "pool.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef LL_X86
#include <immintrin.h>
#endif

#define METRICS_MAX_ROWS ((size_t)1 << 24)

ll_code metrics_init(metrics *m, const hp_values *hv, const loss_params *lp, int sigmoid, float thr,
                     ll_err *err)
{
    memset(m, 0, sizeof *m);
    m->pred = hv->pred;
    m->C = hv->pred == LL_MULTICLASS_CLASSIFIER ? hv->num_classes : 1;
    m->lp = *lp;
    m->sigmoid = sigmoid;
    m->thr = thr;
    m->topk = hv->accuracy_top_k;
    m->beta = hv->f_beta;
    if (m->pred == LL_MULTICLASS_CLASSIFIER) {
        m->tp_c = mem_calloc(m->C, sizeof(double));
        m->pred_c = mem_calloc(m->C, sizeof(double));
        m->act_c = mem_calloc(m->C, sizeof(double));
        if (!m->tp_c || !m->pred_c || !m->act_c) {
            metrics_deinit(m);
            return err_set(err, LL_E_NOMEM, "out of memory for class counts");
        }
    }
    return LL_OK;
}

void metrics_deinit(metrics *m)
{
    mem_free(m->sc);
    mem_free(m->lab);
    mem_free(m->wt);
    mem_free(m->tp_c);
    mem_free(m->pred_c);
    mem_free(m->act_c);
    memset(m, 0, sizeof *m);
}

static ll_code grow(metrics *m, size_t c, ll_err *err)
{
    float *a = mem_realloc_array(m->sc, c, sizeof(float));
    if (a)
        m->sc = a;
    float *b = mem_realloc_array(m->lab, c, sizeof(float));
    if (b)
        m->lab = b;
    float *d = mem_realloc_array(m->wt, c, sizeof(float));
    if (d)
        m->wt = d;
    if (!a || !b || !d)
        return err_set(err, LL_E_NOMEM, "out of memory for %zu scores", c);
    m->cap = c;
    return LL_OK;
}

ll_code metrics_reserve(metrics *m, uint64_t n, ll_err *err)
{
    size_t c = n < METRICS_MAX_ROWS ? (size_t)n : METRICS_MAX_ROWS;
    return m->pred == LL_BINARY_CLASSIFIER && c > m->cap ? grow(m, c, err) : LL_OK;
}

/* ---- binary rows, in blocks ---- */

#define METRICS_BLOCK ((size_t)8192)

/* Adds rows [a, b) to *o, one by one; their scores to sc[a..b) (NULL: not kept). */
static void bin_rows(const metrics *m, const float *z, const float *y, const float *w, size_t a,
                     size_t b, metrics_bin *o, float *sc)
{
    for (size_t i = a; i < b; i++) {
        double wi = w ? w[i] : 1.0;
        o->n += wi;
        double zi = z[i];
        o->loss += wi * loss_eval(&m->lp, zi, y[i], NULL);
        float s = m->sigmoid ? (float)loss_sigmoid(zi) : z[i];
        int p = s > m->thr, t = y[i] > 0.5f;
        if (p && t)
            o->tp += wi;
        else if (p)
            o->fp += wi;
        else if (t)
            o->fn += wi;
        else
            o->tn += wi;
        double q = loss_sigmoid(s); /* SageMaker 2024: a second sigmoid (above) */
        double qc = q < 1e-15 ? 1e-15 : q > 1 - 1e-15 ? 1 - 1e-15 : q;
        o->bll -= wi * (t ? log(qc) : log1p(-qc));
        if (t) {
            o->bpos += wi;
            o->bpos_ok += q > 0.5 ? wi : 0;
        } else {
            o->bneg += wi;
            o->bneg_ok += q > 0.5 ? 0 : wi;
        }
        if (sc)
            sc[i] = s;
    }
}

/* Rows [a, b) into *o, the scores of those before nkeep to sc. */
static void bin_span(const metrics *m, const float *z, const float *y, const float *w, size_t a,
                     size_t b, size_t nkeep, float *sc, metrics_bin *o)
{
    size_t k = nkeep < a ? a : nkeep > b ? b : nkeep;
    bin_rows(m, z, y, w, a, k, o, sc);
    bin_rows(m, z, y, w, k, b, o, NULL);
}

static void bin_total(metrics *m, metrics_bin *o)
{
    m->n += o->n, m->loss += o->loss, m->tp += o->tp, m->fp += o->fp, m->fn += o->fn;
    m->tn += o->tn, m->bll += o->bll, m->bpos += o->bpos, m->bneg += o->bneg;
    m->bpos_ok += o->bpos_ok, m->bneg_ok += o->bneg_ok;
    memset(o, 0, sizeof *o);
}

void metrics_flush(metrics *m)
{
    bin_total(m, &m->open);
}

typedef struct bin_job {
    const metrics *m;
    const float *z, *y, *w;
    size_t base, nb, nkeep; /* blocks k cover rows base + k * METRICS_BLOCK onwards */
    metrics_bin *sums;
    float *sc;
} bin_job;

static void bin_part(void *ud, unsigned part, unsigned np)
{
    bin_job *j = ud;
    for (size_t k = j->nb * part / np, e = j->nb * (part + 1) / np; k < e; k++) {
        size_t a = j->base + k * METRICS_BLOCK;
        memset(&j->sums[k], 0, sizeof j->sums[k]);
        bin_span(j->m, j->z, j->y, j->w, a, a + METRICS_BLOCK, j->nkeep, j->sc, &j->sums[k]);
    }
}

static ll_code bin_add(metrics *m, const float *z, const float *y, const float *w, size_t n,
                       ll_err *err)
{
    /* room for the kept scores, grown as keeping them one by one would grow it */
    size_t want = m->ns + n;
    if (want > m->cap && m->cap < METRICS_MAX_ROWS) {
        size_t c = m->cap ? m->cap : 4096;
        while (c < want && c < METRICS_MAX_ROWS)
            c *= 2;
        ll_code rc = grow(m, c < METRICS_MAX_ROWS ? c : METRICS_MAX_ROWS, err);
        if (rc != LL_OK)
            return rc;
    }
    size_t nkeep = m->cap - m->ns < n ? m->cap - m->ns : n;
    float *sc = m->sc ? m->sc + m->ns : NULL;
    /* the rows that complete the open block, the whole blocks, the rows that open the next */
    size_t g = (size_t)(m->nrow % METRICS_BLOCK), h = n < METRICS_BLOCK - g ? n : METRICS_BLOCK - g;
    bin_span(m, z, y, w, 0, h, nkeep, sc, &m->open);
    if (g + h == METRICS_BLOCK)
        bin_total(m, &m->open);
    size_t nb = (n - h) / METRICS_BLOCK, tail = h + nb * METRICS_BLOCK;
    if (nb) {
        metrics_bin one[4];
        metrics_bin *sums = nb <= 4 ? one : mem_alloc(nb * sizeof *sums);
        if (!sums)
            return err_set(err, LL_E_NOMEM, "out of memory for the metrics");
        bin_job j = {m, z, y, w, h, nb, nkeep, sums, sc};
        unsigned np = m->pool ? pool_parts(m->pool) : 1;
        if (np > 1 && nb >= 2 * (size_t)np)
            pool_run(m->pool, bin_part, &j);
        else
            bin_part(&j, 0, 1);
        for (size_t k = 0; k < nb; k++)
            bin_total(m, &sums[k]);
        if (sums != one)
            mem_free(sums);
    }
    bin_span(m, z, y, w, tail, n, nkeep, sc, &m->open);
    m->nrow += n;
    if (nkeep) {
        memcpy(m->lab + m->ns, y, nkeep * sizeof(float));
        for (size_t i = 0; i < nkeep; i++)
            m->wt[m->ns + i] = w ? w[i] : 1.0f;
        m->ns += nkeep;
    }
    return LL_OK;
}

ll_code metrics_add(metrics *m, const float *z, const float *y, const float *w, size_t n,
                    ll_err *err)
{
    if (m->pred == LL_BINARY_CLASSIFIER)
        return bin_add(m, z, y, w, n, err);
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0;
        m->n += wi;
        if (m->pred == LL_MULTICLASS_CLASSIFIER) {
            const float *zi = z + i * m->C;
            uint32_t t = (uint32_t)y[i];
            m->loss += wi * loss_softmax(zi, m->C, t, NULL);
            uint32_t arg = 0, rank = 0;
            for (uint32_t c = 0; c < m->C; c++) {
                if (zi[c] > zi[arg])
                    arg = c;
                if (zi[c] > zi[t] || (zi[c] == zi[t] && c < t))
                    rank++;
            }
            m->pred_c[arg] += wi;
            m->act_c[t] += wi;
            if (arg == t) {
                m->tp_c[t] += wi;
                m->correct += wi;
            }
            if (rank < m->topk)
                m->topk_ok += wi;
            m->dcg += wi / log2(2.0 + rank);
            /* SageMaker 2024: the softmax of the probabilities (above) */
            double mx = -INFINITY, sum = 0, lse = 0, pt = 0;
            for (uint32_t c = 0; c < m->C; c++)
                mx = zi[c] > mx ? zi[c] : mx;
            for (uint32_t c = 0; c < m->C; c++)
                sum += exp((double)zi[c] - mx);
            for (uint32_t c = 0; c < m->C; c++) {
                double p = exp((double)zi[c] - mx) / sum;
                lse += exp(p);
                if (c == t)
                    pt = p;
            }
            m->mll += wi * (log(lse) - pt);
        } else {
            double e = (double)z[i] - y[i];
            m->loss += wi * loss_eval(&m->lp, z[i], y[i], NULL);
            m->se += wi * e * e;
            m->ae += wi * fabs(e);
            m->sy += wi * y[i];
            m->syy += wi * (double)y[i] * y[i];
        }
    }
    return LL_OK;
}

static double safe_div(double a, double b)
{
    return b > 0 ? a / b : 0;
}

static double fbeta(double p, double r, double beta)
{
    double b2 = beta * beta;
    return p + r > 0 ? (1 + b2) * p * r / (b2 * p + r) : 0;
}

const char *metrics_objective_name(const hp_values *hv)
{
    switch (hv->loss) {
    case LOSS_LOGISTIC:
        return "binary_classification_cross_entropy_objective";
    case LOSS_HINGE:
        return "binary_classification_hinge_loss_objective";
    case LOSS_SOFTMAX:
        return "multiclass_cross_entropy_objective";
    case LOSS_SQUARED:
        return "mse_objective";
    case LOSS_ABSOLUTE:
        return "absolute_loss_objective";
    case LOSS_EPS_SQUARED:
        return "eps_insensitive_squared_loss_objective";
    case LOSS_EPS_ABSOLUTE:
        return "eps_insensitive_absolute_loss_objective";
    case LOSS_QUANTILE:
        return "quantile_loss_objective";
    case LOSS_HUBER:
        return "huber_loss_objective";
    }
    return "objective";
}

void metrics_report(const metrics *m, metrics_fn fn, void *ud)
{
    metrics mc = *m; /* with the open block in its totals */
    metrics_flush(&mc);
    m = &mc;
    char fb[64];
    snprintf(fb, sizeof fb, "%s_f_%.3f", m->pred == LL_BINARY_CLASSIFIER ? "binary" : "macro",
             m->beta);
    fn(ud, "objective_loss", NULL, safe_div(m->loss, m->n), 1);
    if (m->pred == LL_BINARY_CLASSIFIER) {
        double p = safe_div(m->tp, m->tp + m->fp), r = safe_div(m->tp, m->tp + m->fn);
        fn(ud, "binary_classification_accuracy", NULL, safe_div(m->tp + m->tn, m->n), 0);
        fn(ud, "binary_f_beta", fb, fbeta(p, r, m->beta), 0);
        fn(ud, "precision", NULL, p, 0);
        fn(ud, "recall", NULL, r, 0);
        fn(ud, "roc_auc_score", NULL, metrics_auc(m->sc, m->lab, m->wt, m->ns, NULL), 0);
        int present = (m->bpos > 0) + (m->bneg > 0);
        double ba = safe_div(m->bpos_ok, m->bpos) + safe_div(m->bneg_ok, m->bneg);
        fn(ud, "binary_balanced_accuracy", NULL, present ? ba / present : 0, 0);
        fn(ud, "binary_log_loss", NULL, safe_div(m->bll, m->n), 0);
    } else if (m->pred == LL_MULTICLASS_CLASSIFIER) {
        double mp = 0, mr = 0, mf = 0;
        uint32_t present = 0;
        for (uint32_t c = 0; c < m->C; c++) {
            double p = safe_div(m->tp_c[c], m->pred_c[c]), r = safe_div(m->tp_c[c], m->act_c[c]);
            mp += p;
            mr += r;
            mf += fbeta(p, r, m->beta);
            present += m->act_c[c] > 0;
        }
        char tk[64];
        snprintf(tk, sizeof tk, "multiclass_top_k_accuracy_%u", m->topk);
        fn(ud, "multiclass_accuracy", NULL, safe_div(m->correct, m->n), 0);
        fn(ud, "multiclass_top_k_accuracy", tk, safe_div(m->topk_ok, m->n), 0);
        fn(ud, "dcg", NULL, safe_div(m->dcg, m->n), 0);
        fn(ud, "macro_recall", NULL, mr / m->C, 0);
        fn(ud, "macro_precision", NULL, mp / m->C, 0);
        fn(ud, "macro_f_beta", fb, mf / m->C, 0);
        fn(ud, "multiclass_balanced_accuracy", NULL, present ? mr / present : 0, 0);
        fn(ud, "multiclass_log_loss", NULL, safe_div(m->mll, m->n), 0);
    } else {
        double mse = safe_div(m->se, m->n);
        double mean = safe_div(m->sy, m->n);
        double var = safe_div(m->syy, m->n) - mean * mean;
        fn(ud, "mse", NULL, mse, 1);
        fn(ud, "rmse", NULL, sqrt(mse), 1);
        fn(ud, "absolute_loss", NULL, safe_div(m->ae, m->n), 1);
        fn(ud, "r2", NULL, var > 0 ? 1 - mse / var : 0, 0);
    }
}

typedef struct {
    float s, y, w;
} row3;

/* Order-preserving key of a float score, descending: larger scores get smaller keys. */
static uint32_t desc_key(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return ~u;
}

/* Whether two sorted scores form one group of ties: NaN scores (a diverged model) group
 * together, so a walk over groups always moves on. */
static int same_score(float a, float b)
{
    return a == b || (isnan(a) && isnan(b));
}

/* A radix pass's counts of each digit become the digit's first place. */
static void starts(size_t *cnt, int nd)
{
    size_t pos = 0;
    for (int d = 0; d < nd; d++) {
        size_t c = cnt[d];
        cnt[d] = pos;
        pos += c;
    }
}

/* The rows sorted by score, highest first (LSD radix sort, 4 passes of 8 bits: stable, and
 * linear in n; calibration sorts num_models x up to 2^24 / num_models scores). */
static row3 *sorted(const float *s, const float *y, const float *w, size_t n)
{
    row3 *r = mem_alloc((n ? n : 1) * sizeof *r), *t = mem_alloc((n ? n : 1) * sizeof *t);
    if (!r || !t) {
        mem_free(r);
        mem_free(t);
        return NULL;
    }
    size_t cnt[4][256];
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++) {
        r[i].s = s[i];
        r[i].y = y[i] > 0.5f ? 1.0f : 0.0f;
        r[i].w = w ? w[i] : 1.0f;
        uint32_t k = desc_key(s[i]);
        for (int p = 0; p < 4; p++)
            cnt[p][(k >> (8 * p)) & 255]++;
    }
    for (int p = 0; p < 4; p++) {
        if (cnt[p][(desc_key(n ? s[0] : 0) >> (8 * p)) & 255] == n)
            continue; /* every key has the same byte here */
        starts(cnt[p], 256);
        for (size_t i = 0; i < n; i++)
            t[cnt[p][(desc_key(r[i].s) >> (8 * p)) & 255]++] = r[i];
        row3 *x = r;
        r = t;
        t = x;
    }
    mem_free(t);
    return r;
}

/* The AUC of unit-weight rows with no NaN score: (sort key << 1 | label) radix-sorted in 3
 * passes of 11 bits (the key's 32 bits; the label is not sorted on), then the same walk over
 * groups of equal score with the same sums as below, which are whole numbers here and so
 * exact: the same value. -1 when the rows do not qualify or memory runs out. */
static double auc_unit(const float *s, const float *y, const float *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((w && w[i] != 1.0f) || isnan(s[i]))
            return -1;
    uint64_t *a = mem_alloc((n ? n : 1) * sizeof *a), *t = mem_alloc((n ? n : 1) * sizeof *t);
    size_t(*cnt)[2048] = mem_calloc(3, sizeof *cnt);
    if (!a || !t || !cnt) {
        mem_free(a);
        mem_free(t);
        mem_free(cnt);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        float f = s[i] == 0 ? 0.0f : s[i]; /* -0 and +0 tie */
        uint64_t k = (uint64_t)desc_key(f) << 1 | (y[i] > 0.5f);
        a[i] = k;
        for (int p = 0; p < 3; p++)
            cnt[p][(k >> (1 + 11 * p)) & 2047]++;
    }
    for (int p = 0; p < 3; p++) {
        unsigned sh = 1 + 11 * (unsigned)p;
        if (n && cnt[p][(a[0] >> sh) & 2047] == n)
            continue; /* every key has this digit */
        starts(cnt[p], 2048);
        for (size_t i = 0; i < n; i++)
            t[cnt[p][(a[i] >> sh) & 2047]++] = a[i];
        uint64_t *x = a;
        a = t;
        t = x;
    }
    double pos = 0, neg = 0, area = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double gp = 0, gn = 0;
        for (; j < n && a[j] >> 1 == a[i] >> 1; j++) {
            if (a[j] & 1)
                gp += 1;
            else
                gn += 1;
        }
        area += gn * (pos + gp / 2);
        pos += gp;
        neg += gn;
        i = j;
    }
    mem_free(a);
    mem_free(t);
    mem_free(cnt);
    return pos > 0 && neg > 0 ? area / (pos * neg) : 0.5;
}

double metrics_auc(const float *s, const float *y, const float *w, size_t n, ll_err *err)
{
    double fast = auc_unit(s, y, w, n);
    if (fast >= 0)
        return fast;
    row3 *r = sorted(s, y, w, n);
    if (!r) {
        err_set(err, LL_E_NOMEM, "out of memory for the AUC");
        return NAN;
    }
    /* walk groups of equal score from the top: each negative counts the positives above it
     * plus half those tied with it */
    double pos = 0, neg = 0, area = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double gp = 0, gn = 0;
        while (j < n && same_score(r[j].s, r[i].s)) {
            if (r[j].y > 0)
                gp += r[j].w;
            else
                gn += r[j].w;
            j++;
        }
        area += gn * (pos + gp / 2);
        pos += gp;
        neg += gn;
        i = j;
    }
    mem_free(r);
    return pos > 0 && neg > 0 ? area / (pos * neg) : 0.5;
}

/* The criterion at a cut with tp / fp (weighted) positives above it, of P / N in all; aux breaks
 * ties (the larger wins). */
static double crit_value(const hp_values *hv, double tp, double fp, double P, double N, double *aux)
{
    double prec = tp + fp > 0 ? tp / (tp + fp) : 1.0, rec = P > 0 ? tp / P : 0;
    *aux = 0;
    switch (hv->criteria) {
    case CRIT_F_BETA:
        return fbeta(prec, rec, hv->f_beta);
    case CRIT_PRECISION_AT_RECALL:
        *aux = rec;
        return rec >= hv->target_recall ? prec : -1;
    case CRIT_RECALL_AT_PRECISION:
        *aux = prec;
        return prec >= hv->target_precision ? rec : -1;
    default:
        return N + P > 0 ? (tp + N - fp) / (N + P) : 0;
    }
}

ll_code metrics_calibrate_exact(const float *s, const float *y, const float *w, size_t n,
                                const hp_values *hv, calib *out, ll_err *err)
{
    row3 *r = sorted(s, y, w, n);
    if (!r)
        return err_set(err, LL_E_NOMEM, "out of memory for calibration");
    double P = 0, N = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].y > 0)
            P += r[i].w;
        else
            N += r[i].w;
    /* Candidate k: the first k rows (all scores above the cut) are predicted positive. */
    double tp = 0, fp = 0, best = -INFINITY, best_aux = -INFINITY;
    float thr = n ? nextafterf(r[0].s, INFINITY) : 0.5f;
    for (size_t k = 0; k <= n;) {
        double aux, v = crit_value(hv, tp, fp, P, N, &aux);
        if (v > best || (v == best && aux > best_aux)) {
            best = v;
            best_aux = aux;
            if (k == 0)
                thr = n ? nextafterf(r[0].s, INFINITY) : 0.5f;
            else if (k == n)
                thr = nextafterf(r[n - 1].s, -INFINITY);
            else
                thr = (float)(((double)r[k - 1].s + r[k].s) / 2);
            if (!(thr < r[k ? k - 1 : 0].s) && k > 0)
                thr = nextafterf(r[k - 1].s, -INFINITY);
        }
        if (k == n)
            break;
        size_t j = k;
        while (j < n && same_score(r[j].s, r[k].s)) {
            if (r[j].y > 0)
                tp += r[j].w;
            else
                fp += r[j].w;
            j++;
        }
        k = j;
    }
    mem_free(r);
    out->value = best < 0 ? 0 : best;
    out->threshold = thr;
    return LL_OK;
}

/* ---- calibration without the full sort ----
 * With unit weights and finite scores (every row of data without a weight field), the counts
 * above any cut are whole numbers, so they sum exactly in any order. The scores go into up to
 * 2^14 buckets of consecutive sort keys (a 128 KB histogram, which stays in the cache: with
 * 2^16 the counting pass missed it at every row); the criterion at every bucket edge gives a
 * lower bound LB on the best value, and a bound on the best value inside each bucket (most
 * positives, fewest negatives of its range) says whether it can reach LB. Only those buckets
 * are sorted and walked cut by cut, in order, with the same formula and tie rule as the full
 * walk: the cuts left out are strictly worse than the best one, so the chosen cut and threshold
 * are the full walk's (tests/test_loss.c compares the two on random and tied scores). */

#define CAL_NB ((uint32_t)1 << 14)
#define CAL_MIN_ROWS 4096

static float key_score(uint32_t k)
{
    uint32_t u = ~k;
    u = (u & 0x80000000u) ? (u & 0x7FFFFFFFu) : ~u;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* An upper bound of the criterion over the cuts inside a bucket that starts after tp / fp and
 * holds p positives. */
static double crit_bound(const hp_values *hv, double tp0, double fp0, double p, double P, double N)
{
    double tp = tp0 + p, fp = fp0;
    double prec = tp + fp > 0 ? tp / (tp + fp) : 1.0, rec = P > 0 ? tp / P : 0;
    switch (hv->criteria) {
    case CRIT_F_BETA: {
        double b2 = hv->f_beta * hv->f_beta;
        return tp > 0 ? (1 + b2) * tp / (tp + b2 * P + fp) : 0;
    }
    case CRIT_PRECISION_AT_RECALL:
        return rec >= hv->target_recall - 1e-9 ? prec : -1;
    case CRIT_RECALL_AT_PRECISION:
        return prec >= hv->target_precision - 1e-9 ? rec : -1;
    default:
        return N + P > 0 ? (tp + N - fp) / (N + P) : 0;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void sort_u64(uint64_t *a, size_t n)
{
    if (n > 24) {
        qsort(a, n, sizeof *a, cmp_u64);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

#ifdef LL_X86
/* fast_ok's checks and key range, 16 scores at a time (the same answer: integer min and max). */
LL_AVX512 static int fast_ok_512(const float *s, const float *w, size_t n, uint32_t *kmin,
                                 uint32_t *kmax)
{
    const __m512i expo = _mm512_set1_epi32(0x7F800000), sign = _mm512_set1_epi32(INT32_MIN);
    const __m512i zero = _mm512_setzero_si512(), ones = _mm512_set1_epi32(-1);
    __m512i lo = ones, hi = zero;
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = cpu_lanes16(n - i);
        __m512i u = _mm512_maskz_loadu_epi32(m, s + i);
        __mmask16 bad = _mm512_mask_cmpeq_epi32_mask(m, _mm512_and_si512(u, expo), expo) |
                        _mm512_mask_cmpeq_epi32_mask(m, u, sign);
        if (w)
            bad |= _mm512_mask_cmp_ps_mask(m, _mm512_maskz_loadu_ps(m, w + i), _mm512_set1_ps(1.0f),
                                           _CMP_NEQ_UQ);
        if (bad)
            return 0;
        __mmask16 neg = _mm512_cmplt_epi32_mask(u, zero);
        /* desc_key: ~(negative ? ~u : u | sign) */
        __m512i k =
            _mm512_mask_blend_epi32(neg, _mm512_xor_si512(_mm512_or_si512(u, sign), ones), u);
        lo = _mm512_mask_min_epu32(lo, m, lo, k);
        hi = _mm512_mask_max_epu32(hi, m, hi, k);
    }
    *kmin = _mm512_reduce_min_epu32(lo);
    *kmax = _mm512_reduce_max_epu32(hi);
    return 1;
}
#endif

/* Whether the fast paths apply (n large enough, unit weights, finite scores without -0) and
 * the range of the sort keys. */
static int fast_ok(const float *s, const float *w, size_t n, uint32_t *kmin, uint32_t *kmax)
{
    if (n < CAL_MIN_ROWS || n > UINT32_MAX)
        return 0;
#ifdef LL_X86
    if (cpu_avx512())
        return fast_ok_512(s, w, n, kmin, kmax);
#endif
    uint32_t lo = UINT32_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        float f = s[i];
        if (!isfinite(f) || (f == 0 && signbit(f)) || (w && w[i] != 1.0f))
            return 0;
        uint32_t k = desc_key(f);
        lo = k < lo ? k : lo;
        hi = k > hi ? k : hi;
    }
    *kmin = lo;
    *kmax = hi;
    return 1;
}

/* Bucket of key k: 0 .. nb-1 in key order. */
static uint32_t key_shift(uint32_t kmin, uint32_t kmax)
{
    uint32_t sh = 0;
    while (((kmax - kmin) >> sh) >= CAL_NB)
        sh++;
    return sh;
}

ll_code metrics_calibrate(const float *s, const float *y, const float *w, size_t n,
                          const hp_values *hv, calib *out, ll_err *err)
{
    uint32_t kmin, kmax;
    if (!fast_ok(s, w, n, &kmin, &kmax))
        return metrics_calibrate_exact(s, y, w, n, hv, out, err);
    uint32_t sh = key_shift(kmin, kmax), nb = ((kmax - kmin) >> sh) + 1;
    /* per bucket: negatives, positives; then the start of its sorted keys */
    uint32_t *cnt = mem_calloc((size_t)nb * 3, sizeof *cnt);
    uint8_t *need = mem_calloc(nb, 1);
    if (!cnt || !need) {
        mem_free(cnt);
        mem_free(need);
        return metrics_calibrate_exact(s, y, w, n, hv, out, err);
    }
    for (size_t i = 0; i < n; i++)
        cnt[2 * (size_t)((desc_key(s[i]) - kmin) >> sh) + (y[i] > 0.5f)]++;
    double P = 0, N = 0;
    for (uint32_t b = 0; b < nb; b++) {
        N += cnt[2 * b];
        P += cnt[2 * b + 1];
    }
    /* the lower bound: the best cut at a bucket edge */
    double tp = 0, fp = 0, lb = -INFINITY, aux;
    for (uint32_t b = 0; b < nb; b++) {
        if (!(cnt[2 * b] | cnt[2 * b + 1]))
            continue;
        lb = fmax(lb, crit_value(hv, tp, fp, P, N, &aux));
        tp += cnt[2 * b + 1];
        fp += cnt[2 * b];
    }
    lb = fmax(lb, crit_value(hv, tp, fp, P, N, &aux));
    uint32_t *start = cnt + 2 * (size_t)nb;
    size_t ng = 0;
    tp = fp = 0;
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t c = cnt[2 * b] + cnt[2 * b + 1];
        if (c > 1 && crit_bound(hv, tp, fp, cnt[2 * b + 1], P, N) + 1e-9 >= lb) {
            need[b] = 1;
            start[b] = (uint32_t)ng;
            ng += c;
        }
        tp += cnt[2 * b + 1];
        fp += cnt[2 * b];
    }
    uint64_t *g = ng <= n / 2 ? mem_alloc((ng ? ng : 1) * sizeof *g) : NULL;
    if (!g) {
        mem_free(cnt);
        mem_free(need);
        return metrics_calibrate_exact(s, y, w, n, hv, out, err);
    }
    /* gather the keys of the buckets to walk (start[b] moves to the bucket's end), sort each */
    for (size_t i = 0; i < n; i++) {
        uint32_t k = desc_key(s[i]), b = (k - kmin) >> sh;
        if (need[b])
            g[start[b]++] = (uint64_t)k << 1 | (y[i] > 0.5f);
    }
    for (uint32_t b = 0; b < nb; b++)
        if (need[b]) {
            uint32_t c = cnt[2 * b] + cnt[2 * b + 1];
            start[b] -= c;
            sort_u64(g + start[b], c);
        }
    /* the walk: bucket edges, and every cut inside the walked buckets */
    double best = -INFINITY, best_aux = -INFINITY;
    uint32_t cb = UINT32_MAX, cprev = UINT32_MAX, prevb = UINT32_MAX;
    size_t ci = 0;
    int at_end = 0;
    tp = fp = 0;
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t c = cnt[2 * b] + cnt[2 * b + 1];
        if (!c)
            continue;
        if (!need[b]) {
            double v = crit_value(hv, tp, fp, P, N, &aux);
            if (v > best || (v == best && aux > best_aux)) {
                best = v;
                best_aux = aux;
                cb = b;
                ci = 0;
                cprev = prevb;
            }
            tp += cnt[2 * b + 1];
            fp += cnt[2 * b];
        } else {
            const uint64_t *seg = g + start[b];
            for (size_t i = 0; i < c;) {
                double v = crit_value(hv, tp, fp, P, N, &aux);
                if (v > best || (v == best && aux > best_aux)) {
                    best = v;
                    best_aux = aux;
                    cb = b;
                    ci = i;
                    cprev = prevb;
                }
                size_t j = i;
                for (; j < c && seg[j] >> 1 == seg[i] >> 1; j++) {
                    if (seg[j] & 1)
                        tp++;
                    else
                        fp++;
                }
                i = j;
            }
        }
        prevb = b;
    }
    double v = crit_value(hv, tp, fp, P, N, &aux);
    if (v > best || (v == best && aux > best_aux)) {
        best = v;
        at_end = 1;
    }
    float thr;
    if (at_end) {
        thr = nextafterf(key_score(kmax), -INFINITY);
    } else if (cprev == UINT32_MAX && ci == 0) {
        thr = nextafterf(key_score(kmin), INFINITY); /* the cut above every row */
    } else {
        /* the scores either side of the cut: the highest at it, the lowest above it */
        uint32_t kcur = UINT32_MAX, kprev = 0;
        if (need[cb]) {
            kcur = (uint32_t)(g[start[cb] + ci] >> 1);
            if (ci > 0)
                kprev = (uint32_t)(g[start[cb] + ci - 1] >> 1);
        }
        if (ci == 0 && need[cprev])
            kprev = (uint32_t)(g[start[cprev] + cnt[2 * cprev] + cnt[2 * cprev + 1] - 1] >> 1);
        if ((!need[cb]) || (ci == 0 && !need[cprev]))
            for (size_t i = 0; i < n; i++) {
                uint32_t k = desc_key(s[i]), b = (k - kmin) >> sh;
                if (b == cb && !need[cb] && k < kcur)
                    kcur = k;
                if (ci == 0 && b == cprev && !need[cprev] && k > kprev)
                    kprev = k;
            }
        float cur = key_score(kcur), prev = key_score(kprev);
        thr = (float)(((double)prev + cur) / 2);
        if (!(thr < prev))
            thr = nextafterf(prev, -INFINITY);
    }
    mem_free(g);
    mem_free(cnt);
    mem_free(need);
    out->value = best < 0 ? 0 : best;
    out->threshold = thr;
    return LL_OK;
}
