/* SPDX-License-Identifier: Apache-2.0 */
/*
 * report.c - the training report (report.h, docs/REPORT.md): reads the metrics JSON document
 * (its "history" object, history.h) and writes one HTML page with inline SVG charts and CSS:
 * learning curves, the model-selection table, ROC and precision-recall curves with the tuned
 * threshold, confusion matrices, predicted-vs-actual and residuals, the run's facts. Every
 * chart's <svg> carries its value ranges and pixel ranges as data-* attributes, so a test can
 * map a drawn point back to the number it shows.
 */
#include "report.h"
#include "err.h"
#include "mem.h"
#include "wr.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SB_MAX ((size_t)256 << 20)

/* ---- a growable string ---- */

typedef struct sb {
    char *p;
    size_t len, cap;
    int oom;
} sb;

static int sb_room(sb *b, size_t n)
{
    if (b->oom)
        return 0;
    if (b->len + n + 1 <= b->cap)
        return 1;
    size_t c = b->cap ? b->cap : 65536;
    while (c < b->len + n + 1)
        c *= 2;
    char *q = c <= SB_MAX ? mem_realloc(b->p, c) : NULL;
    if (!q) {
        b->oom = 1;
        return 0;
    }
    b->p = q;
    b->cap = c;
    return 1;
}

static void sbs(sb *b, const char *s)
{
    size_t n = strlen(s);
    if (sb_room(b, n)) {
        memcpy(b->p + b->len, s, n + 1);
        b->len += n;
    }
}

static void sbf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbf(sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !sb_room(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* HTML-escaped text */
static void esc(sb *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            sbs(b, "&lt;");
            break;
        case '>':
            sbs(b, "&gt;");
            break;
        case '&':
            sbs(b, "&amp;");
            break;
        case '"':
            sbs(b, "&quot;");
            break;
        default: {
            char c[2] = {*s, 0};
            sbs(b, c);
        }
        }
    }
}

/* ---- reading the document ---- */

/* A number (or a string holding one, as hyperparameters are); NaN when absent. */
static double jnum(const json_t *o, const char *key)
{
    const json_t *v = key ? json_object_get(o, key) : o;
    if (json_is_number(v))
        return json_number_value(v);
    if (json_is_string(v)) {
        char *end;
        double d = strtod(json_string_value(v), &end);
        if (end != json_string_value(v))
            return d;
    }
    return NAN;
}

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Short, readable numbers: 4 significant digits, "–" for none. */
static const char *fnum(char *buf, double v)
{
    if (!isfinite(v))
        return "–";
    double a = fabs(v);
    if (a != 0 && (a < 1e-3 || a >= 1e6))
        snprintf(buf, 32, "%.3g", v);
    else
        snprintf(buf, 32, "%.4g", v);
    return buf;
}

/* Counts with thousands separators */
static const char *fint(char *buf, double v)
{
    if (!isfinite(v))
        return "–";
    char t[32];
    snprintf(t, sizeof t, "%.0f", v);
    size_t n = strlen(t), o = 0, lead = t[0] == '-';
    for (size_t i = 0; i < n; i++) {
        if (i > lead && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = t[i];
    }
    buf[o] = 0;
    return buf;
}

static const char *fsecs(char *buf, double s)
{
    if (!isfinite(s))
        return "–";
    if (s < 1)
        snprintf(buf, 32, "%.0f ms", s * 1000);
    else if (s < 120)
        snprintf(buf, 32, "%.2f s", s);
    else if (s < 7200)
        snprintf(buf, 32, "%.0f min %.0f s", floor(s / 60), fmod(s, 60));
    else
        snprintf(buf, 32, "%.1f h", s / 3600);
    return buf;
}

/* ---- charts ---- */

#define CW 480
#define CH 320
#define PX0 62
#define PX1 (CW - 14)
#define PY0 (CH - 46) /* pixel row of the low end of y */
#define PY1 14

typedef struct chart {
    int id;
    double x0, x1, y0, y1; /* value ranges */
} chart;

static double cx(const chart *c, double v)
{
    return PX0 + (v - c->x0) / (c->x1 - c->x0) * (PX1 - PX0);
}

static double cy(const chart *c, double v)
{
    return PY0 + (v - c->y0) / (c->y1 - c->y0) * (PY1 - PY0);
}

static double nice_step(double range, int n)
{
    double raw = range / n;
    if (!(raw > 0))
        return 1;
    double p = pow(10, floor(log10(raw)));
    double f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void range_pad(double *lo, double *hi)
{
    if (!isfinite(*lo) || !isfinite(*hi)) {
        *lo = 0;
        *hi = 1;
    }
    if (*hi <= *lo) {
        double d = fabs(*lo) > 0 ? fabs(*lo) * 0.1 : 1;
        *lo -= d;
        *hi += d;
        return;
    }
    double d = (*hi - *lo) * 0.05;
    *lo -= d;
    *hi += d;
}

static void tick_label(char *buf, double v, double step)
{
    if (fabs(v) < step * 1e-6)
        v = 0;
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6 || fabs(v) >= 1e6)
        snprintf(buf, 32, "%.2g", v);
    else
        snprintf(buf, 32, "%.*f", dec, v);
}

/* Opens a figure with its axes; the plot's marks follow inside a clipped group. */
static void chart_open(sb *b, chart *c, const char *cls, const char *title, const char *what,
                       const char *xlabel, const char *ylabel, int int_x)
{
    sbs(b, "<figure class=\"chart\"><figcaption>");
    esc(b, title);
    if (what && *what) {
        sbs(b, " <small>");
        esc(b, what);
        sbs(b, "</small>");
    }
    sbf(b, "</figcaption>\n<svg class=\"%s\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", cls,
        CW, CH);
    esc(b, title);
    sbf(b,
        "\" data-x-lo=\"%.10g\" data-x-hi=\"%.10g\" data-y-lo=\"%.10g\" data-y-hi=\"%.10g\" "
        "data-px-lo=\"%d\" data-px-hi=\"%d\" data-py-lo=\"%d\" data-py-hi=\"%d\">\n",
        c->x0, c->x1, c->y0, c->y1, PX0, PX1, PY0, PY1);
    sbf(b,
        "<defs><clipPath id=\"clip%d\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>"
        "</clipPath></defs>\n",
        c->id, PX0 - 4, PY1 - 4, PX1 - PX0 + 8, PY0 - PY1 + 8);
    sbf(b, "<rect class=\"plot\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\"/>\n", PX0, PY1,
        PX1 - PX0, PY0 - PY1);
    char t[32];
    double sx = nice_step(c->x1 - c->x0, 6);
    if (int_x && sx < 1)
        sx = 1;
    for (double v = ceil(c->x0 / sx - 1e-9) * sx; v <= c->x1 + sx * 1e-9; v += sx) {
        double p = cx(c, v);
        tick_label(t, v, sx);
        sbf(b,
            "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
            "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
            p, PY1, p, PY0, p, PY0 + 16, t);
    }
    double sy = nice_step(c->y1 - c->y0, 5);
    for (double v = ceil(c->y0 / sy - 1e-9) * sy; v <= c->y1 + sy * 1e-9; v += sy) {
        double p = cy(c, v);
        tick_label(t, v, sy);
        sbf(b,
            "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
            "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
            PX0, p, PX1, p, PX0 - 6, p + 4, t);
    }
    sbf(b, "<text class=\"axis\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (PX0 + PX1) / 2,
        CH - 8);
    esc(b, xlabel);
    sbf(b,
        "</text><text class=\"axis\" transform=\"translate(14 %d) rotate(-90)\" "
        "text-anchor=\"middle\">",
        (PY0 + PY1) / 2);
    esc(b, ylabel);
    sbf(b, "</text>\n<g clip-path=\"url(#clip%d)\">\n", c->id);
}

static void chart_close(sb *b)
{
    sbs(b, "</g></svg>\n");
}

static void legend_item(sb *b, const char *cls, const char *label)
{
    sbf(b, "<span><i class=\"sw %s\"></i>", cls);
    esc(b, label);
    sbs(b, "</span>");
}

/* ---- sections ---- */

typedef struct doc {
    const json_t *root, *hist, *hp, *metrics, *sel, *epochs, *models, *chans;
    const char *pred;
    int K, n_ep, selk, binary, multi, regressor;
    int kept; /* the selected model's kept epoch (its best on validation); -1: the last */
    double thr;
    int ids;
} doc;

static const char *CH_NAMES[3] = {"train", "validation", "test"};

/* value of model k in epoch e under key ("train", "validation", "criterion") */
static double ep_val(const doc *d, int e, const char *key, int k)
{
    const json_t *a = json_object_get(json_array_get(d->epochs, (size_t)e), key);
    return jnum(json_array_get(a, (size_t)k), NULL);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Learning curves of every model under key; the selected model drawn last and highlighted.
 * The range leaves out the worst tenth of the other models' values (divergent models), so the
 * curves that matter keep the height. */
static void curves(sb *b, doc *d, const char *key, const char *title, const char *what,
                   const char *ylabel, int higher)
{
    int n = d->n_ep, K = d->K;
    if (n == 0 || K == 0)
        return;
    double *all = mem_alloc((size_t)n * K * sizeof *all);
    if (!all)
        return;
    size_t cnt = 0;
    double smin = INFINITY, smax = -INFINITY, amin = INFINITY, amax = -INFINITY;
    for (int e = 0; e < n; e++)
        for (int k = 0; k < K; k++) {
            double v = ep_val(d, e, key, k);
            if (!isfinite(v))
                continue;
            all[cnt++] = v;
            amin = fmin(amin, v);
            amax = fmax(amax, v);
            if (k == d->selk) {
                smin = fmin(smin, v);
                smax = fmax(smax, v);
            }
        }
    if (cnt == 0) {
        mem_free(all);
        return;
    }
    qsort(all, cnt, sizeof *all, cmp_d);
    double lo = amin, hi = amax;
    if (higher)
        lo = fmax(amin, fmin(all[(size_t)(0.1 * (double)(cnt - 1))], smin));
    else
        hi = fmin(amax, fmax(all[(size_t)(0.9 * (double)(cnt - 1))], smax));
    mem_free(all);
    range_pad(&lo, &hi);
    /* epochs count from 1, as the people's log does */
    chart c = {++d->ids, 1, n > 1 ? n : 2, lo, hi};
    if (n == 1)
        c.x0 = 0;
    char cls[64];
    snprintf(cls, sizeof cls, "curves curves-%s", key);
    chart_open(b, &c, cls, title, what, "epoch", ylabel, 1);
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < K; k++) {
            int sel = k == d->selk;
            if (sel != pass)
                continue;
            double last = NAN;
            sbf(b, "<polyline class=\"model%s\" data-model=\"%d\"", sel ? " selected" : "", k);
            sbs(b, " points=\"");
            for (int e = 0; e < n; e++) {
                double v = ep_val(d, e, key, k);
                if (!isfinite(v))
                    continue;
                sbf(b, "%.2f,%.2f ", cx(&c, e + 1), cy(&c, v));
                last = v;
            }
            if (isfinite(last))
                sbf(b, "\" data-last=\"%.10g\"/>\n", last);
            else /* a diverged model: no point to draw */
                sbs(b, "\"/>\n");
            if (sel || n == 1)
                for (int e = 0; e < n; e++) {
                    double v = ep_val(d, e, key, k);
                    if (isfinite(v))
                        sbf(b, "<circle class=\"pt%s\" cx=\"%.2f\" cy=\"%.2f\" r=\"%s\"/>\n",
                            sel ? " selected" : "", cx(&c, e + 1), cy(&c, v), sel ? "3" : "2");
                }
        }
    double kv = d->kept >= 0 ? ep_val(d, d->kept, key, d->selk) : NAN;
    if (isfinite(kv))
        sbf(b, "<circle class=\"kept\" data-epoch=\"%d\" cx=\"%.2f\" cy=\"%.2f\" r=\"7\"/>\n",
            d->kept + 1, cx(&c, d->kept + 1), cy(&c, kv));
    chart_close(b);
    char t[80];
    snprintf(t, sizeof t, "selected model %d", d->selk);
    sbs(b, "<div class=\"legend\">");
    legend_item(b, "sel", t);
    legend_item(b, "other", K > 1 ? "the other models" : "");
    if (isfinite(kv))
        legend_item(b, "ring", "the epoch it keeps");
    sbs(b, "</div></figure>\n");
}

/* The epoch whose weights the selected model keeps: with validation, its best epoch (best
 * criterion, ties by loss; or the lowest loss), as training snapshots it; else the last. */
static int kept_epoch(const doc *d)
{
    if (!json_object_get(json_array_get(d->epochs, 0), "validation"))
        return -1;
    int crit = json_object_get(json_array_get(d->epochs, 0), "criterion") != NULL, best = -1;
    double bc = -INFINITY, bl = INFINITY;
    for (int e = 0; e < d->n_ep; e++) {
        double l = ep_val(d, e, "validation", d->selk);
        double c = crit ? ep_val(d, e, "criterion", d->selk) : 0;
        if (!isfinite(l))
            continue;
        if (crit ? c > bc || (c == bc && l < bl) : l < bl) {
            bc = c;
            bl = l;
            best = e;
        }
    }
    return best;
}

static void section_curves(sb *b, doc *d)
{
    if (d->n_ep == 0)
        return;
    const char *obj = jstr(d->hist, "objective");
    const char *crit = jstr(d->hist, "criterion");
    int higher = json_is_true(json_object_get(d->hist, "criterion_higher_is_better"));
    sbs(b, "<section id=\"curves\"><h2>Learning curves</h2><div class=\"grid wide\">\n");
    curves(b, d, "train", "Train objective", obj, "objective", 0);
    const json_t *e0 = json_array_get(d->epochs, 0);
    if (json_object_get(e0, "validation"))
        curves(b, d, "validation", "Validation objective", obj, "objective", 0);
    if (json_object_get(e0, "criterion"))
        curves(b, d, "criterion", "Early-stopping criterion", crit, "criterion", higher);
    sbf(b,
        "</div><p class=\"note\">One line per parallel model (%d), one point per epoch; lower "
        "objective is better%s. The selected model is highlighted%s.</p></section>\n",
        d->K, higher ? ", higher criterion is better" : "",
        d->kept >= 0 ? "; the ring marks the epoch whose weights it keeps (its best on validation)"
                     : "");
}

typedef struct mrow {
    int k;
    double key, loss;
} mrow;

/* NaN last */
static int cmp_nan(double x, double y)
{
    if (isnan(x) != isnan(y))
        return isnan(x) ? 1 : -1;
    return x < y ? -1 : x > y;
}

static int cmp_row(const void *a, const void *b)
{
    const mrow *x = a, *y = b;
    int c = cmp_nan(x->key, y->key);
    if (!c)
        c = cmp_nan(x->loss, y->loss);
    return c ? c : x->k - y->k;
}

static void section_models(sb *b, doc *d)
{
    int K = (int)json_array_size(d->models);
    if (K == 0)
        return;
    int higher = json_is_true(json_object_get(d->hist, "criterion_higher_is_better"));
    const char *crit = jstr(d->hist, "criterion");
    int has_val = json_object_get(json_array_get(d->epochs, 0), "validation") != NULL;
    mrow *rows = mem_alloc((size_t)K * sizeof *rows);
    if (!rows)
        return;
    for (int k = 0; k < K; k++) {
        const json_t *m = json_array_get(d->models, (size_t)k);
        double v = jnum(m, higher ? "selection_value" : "selection_loss");
        rows[k].k = k;
        rows[k].key = higher ? -v : v;
        rows[k].loss = jnum(m, "selection_loss");
    }
    qsort(rows, (size_t)K, sizeof *rows, cmp_row);
    sbs(b, "<section id=\"models\"><h2>Model selection</h2>\n<div class=\"scroll\"><table "
           "class=\"models\"><thead><tr><th>rank</th><th>model</th><th>learning_rate</th>"
           "<th>wd</th><th>l1</th>");
    if (d->binary)
        sbs(b, "<th title=\"positive_example_weight_mult\">pos. weight</th>");
    sbs(b, "<th>train obj. (last)</th>");
    if (has_val)
        sbs(b, "<th>validation obj. (best)</th>");
    sbf(b, "<th>selection %s %s</th></tr></thead><tbody>\n", higher ? "criterion" : "loss",
        higher ? "↑" : "↓");
    char t[32];
    for (int i = 0; i < K; i++) {
        int k = rows[i].k;
        const json_t *m = json_array_get(d->models, (size_t)k);
        sbf(b, "<tr%s data-model=\"%d\"><td>%d</td><td>%d%s</td>",
            k == d->selk ? " class=\"sel\"" : "", k, i + 1, k, k == d->selk ? " ★" : "");
        sbf(b, "<td>%s</td>", fnum(t, jnum(m, "learning_rate")));
        sbf(b, "<td>%s</td>", fnum(t, jnum(m, "wd")));
        sbf(b, "<td>%s</td>", fnum(t, jnum(m, "l1")));
        if (d->binary)
            sbf(b, "<td>%s</td>", fnum(t, jnum(m, "positive_example_weight_mult")));
        sbf(b, "<td>%s</td>", fnum(t, ep_val(d, d->n_ep - 1, "train", k)));
        if (has_val) {
            double best = INFINITY;
            for (int e = 0; e < d->n_ep; e++) {
                double v = ep_val(d, e, "validation", k);
                if (isfinite(v) && v < best)
                    best = v;
            }
            sbf(b, "<td>%s</td>", fnum(t, best));
        }
        sbf(b, "<td>%s</td></tr>\n",
            fnum(t, jnum(m, higher ? "selection_value" : "selection_loss")));
    }
    mem_free(rows);
    sbs(b, "</tbody></table></div>\n<p class=\"note\">Ranked as model selection ranks them: ");
    if (higher) {
        sbs(b, "by ");
        esc(b, crit ? crit : "the criterion");
        sbs(b, " at each model's own tuned threshold (higher is better), ties by loss");
    } else {
        sbs(b, "by the objective (lower is better)");
    }
    sbf(b, ", on the %s channel. ★ marks the selected model.</p></section>\n",
        has_val ? "validation" : "train");
    (void)crit;
}

static const char *CH_COLOR_CLS[3] = {"c-train", "c-val", "c-test"};

/* ROC (pr = 0) or precision-recall (pr = 1) curves of every channel, the tuned threshold
 * marked on each. */
static void roc_chart(sb *b, doc *d, int pr)
{
    chart c = {++d->ids, 0, 1, 0, 1};
    range_pad(&c.x0, &c.x1);
    range_pad(&c.y0, &c.y1);
    c.x0 = c.y0 = -0.02;
    c.x1 = c.y1 = 1.02;
    chart_open(b, &c, pr ? "pr" : "roc", pr ? "Precision-recall" : "ROC", "selected model",
               pr ? "recall" : "false positive rate", pr ? "precision" : "true positive rate", 0);
    if (!pr)
        sbf(b, "<line class=\"chance\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
            cx(&c, 0), cy(&c, 0), cx(&c, 1), cy(&c, 1));
    for (int ch = 0; ch < 3; ch++) {
        const json_t *roc = json_object_get(json_object_get(d->chans, CH_NAMES[ch]), "roc");
        if (!roc)
            continue;
        const json_t *fx = json_object_get(roc, pr ? "tpr" : "fpr");
        const json_t *fy = json_object_get(roc, pr ? "precision" : "tpr");
        size_t n = json_array_size(fx);
        if (pr) {
            /* the positive rate: precision of a classifier that says 1 for every row */
            double base = jnum(json_array_get(fy, n - 1), NULL);
            if (isfinite(base))
                sbf(b,
                    "<line class=\"chance %s\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" "
                    "y2=\"%.2f\"/>\n",
                    CH_COLOR_CLS[ch], cx(&c, 0), cy(&c, base), cx(&c, 1), cy(&c, base));
        }
        sbf(b, "<polyline class=\"curve %s\" data-channel=\"%s\" points=\"", CH_COLOR_CLS[ch],
            CH_NAMES[ch]);
        for (size_t i = 0; i < n && i < json_array_size(fy); i++) {
            double x = jnum(json_array_get(fx, i), NULL), y = jnum(json_array_get(fy, i), NULL);
            if (isfinite(x) && isfinite(y))
                sbf(b, "%.2f,%.2f ", cx(&c, x), cy(&c, y));
        }
        sbs(b, "\"/>\n");
    }
    for (int ch = 0; ch < 3; ch++) {
        const json_t *at = json_object_get(
            json_object_get(json_object_get(d->chans, CH_NAMES[ch]), "roc"), "at_threshold");
        if (!at)
            continue;
        double x = jnum(at, pr ? "recall" : "fpr"), y = jnum(at, pr ? "precision" : "tpr");
        double t = jnum(at, "threshold");
        if (!isfinite(x) || !isfinite(y))
            continue;
        sbf(b,
            "<circle class=\"thr %s\" data-channel=\"%s\" data-threshold=\"%.10g\" "
            "data-x=\"%.10g\" data-y=\"%.10g\" cx=\"%.2f\" cy=\"%.2f\" r=\"5.5\"/>\n",
            CH_COLOR_CLS[ch], CH_NAMES[ch], t, x, y, cx(&c, x), cy(&c, y));
    }
    chart_close(b);
    sbs(b, "<div class=\"legend\">");
    char lab[128], t[32];
    for (int ch = 0; ch < 3; ch++) {
        const json_t *roc = json_object_get(json_object_get(d->chans, CH_NAMES[ch]), "roc");
        if (!roc)
            continue;
        char key[64];
        snprintf(key, sizeof key, "%s:roc_auc_score", CH_NAMES[ch]);
        double auc = jnum(d->metrics, key);
        if (!pr && isfinite(auc))
            snprintf(lab, sizeof lab, "%s (AUC %s)", CH_NAMES[ch], fnum(t, auc));
        else
            snprintf(lab, sizeof lab, "%s", CH_NAMES[ch]);
        legend_item(b, CH_COLOR_CLS[ch], lab);
    }
    snprintf(lab, sizeof lab, "threshold %s", fnum(t, d->thr));
    legend_item(b, "dot", lab);
    sbs(b, "</div></figure>\n");
}

static void section_roc(sb *b, doc *d)
{
    int any = 0;
    for (int ch = 0; ch < 3; ch++)
        any |= json_object_get(json_object_get(d->chans, CH_NAMES[ch]), "roc") != NULL;
    if (!any)
        return;
    char t[32];
    sbs(b, "<section id=\"roc\"><h2>ROC and precision-recall</h2><div class=\"grid\">\n");
    roc_chart(b, d, 0);
    roc_chart(b, d, 1);
    sbf(b,
        "</div><p class=\"note\">The selected model's scores on each channel. The dot is the "
        "tuned threshold (%s): rows scoring above it are predicted 1. It was tuned on the %s "
        "channel for ",
        fnum(t, d->thr), json_object_get(d->chans, "validation") ? "validation" : "train");
    esc(b, jstr(d->hp, "binary_classifier_model_selection_criteria"));
    sbs(b, ".</p></section>\n");
}

static void confusion(sb *b, const doc *d, int ch, const json_t *cm)
{
    const json_t *labels = json_object_get(cm, "labels"), *mat = json_object_get(cm, "matrix");
    size_t C = json_array_size(labels);
    if (C == 0 || json_array_size(mat) != C)
        return;
    char t[32];
    double total = 0, diag = 0;
    for (size_t a = 0; a < C; a++)
        for (size_t p = 0; p < C; p++) {
            double v = jnum(json_array_get(json_array_get(mat, a), p), NULL);
            if (isfinite(v)) {
                total += v;
                if (a == p)
                    diag += v;
            }
        }
    sbf(b, "<figure class=\"cm\"><figcaption>%s</figcaption><div class=\"scroll\">", CH_NAMES[ch]);
    sbf(b,
        "<table class=\"confusion%s\" data-channel=\"%s\"><thead><tr><th>actual \\ "
        "predicted</th>",
        C > 4 ? " small" : "", CH_NAMES[ch]);
    for (size_t p = 0; p < C; p++)
        sbf(b, "<th>%s</th>", fint(t, jnum(json_array_get(labels, p), NULL)));
    sbs(b, "<th>rows</th></tr></thead><tbody>\n");
    for (size_t a = 0; a < C; a++) {
        const json_t *row = json_array_get(mat, a);
        double rs = 0;
        for (size_t p = 0; p < C; p++) {
            double v = jnum(json_array_get(row, p), NULL);
            if (isfinite(v))
                rs += v;
        }
        sbf(b, "<tr><th>%s</th>", fint(t, jnum(json_array_get(labels, a), NULL)));
        for (size_t p = 0; p < C; p++) {
            double v = jnum(json_array_get(row, p), NULL);
            double share = rs > 0 && isfinite(v) ? v / rs : 0;
            sbf(b, "<td style=\"background:rgba(%s,%.3f)\" title=\"%.1f%% of actual %zu\">%s</td>",
                a == p ? "28,126,214" : "217,72,15", 0.08 + 0.6 * share, share * 100, a,
                fint(t, v));
        }
        sbf(b, "<td class=\"mut\">%s</td></tr>\n", fint(t, rs));
    }
    sbf(b, "</tbody></table></div><p class=\"note\">%s%% on the diagonal (correct)</p></figure>\n",
        fnum(t, total > 0 ? 100 * diag / total : NAN));
    (void)d;
}

static void section_confusion(sb *b, doc *d)
{
    int any = 0;
    for (int ch = 0; ch < 3; ch++)
        any |= json_object_get(json_object_get(d->chans, CH_NAMES[ch]), "confusion") != NULL;
    if (!any)
        return;
    char t[32];
    const json_t *any_cm = NULL;
    for (int ch = 0; ch < 3 && !any_cm; ch++)
        any_cm = json_object_get(json_object_get(d->chans, CH_NAMES[ch]), "confusion");
    size_t C = json_array_size(json_object_get(any_cm, "labels"));
    sbf(b, "<section id=\"confusion\"><h2>Confusion matrices</h2><div class=\"grid%s\">\n",
        C > 4 ? " wide" : "");
    for (int ch = 0; ch < 3; ch++) {
        const json_t *cm = json_object_get(json_object_get(d->chans, CH_NAMES[ch]), "confusion");
        if (cm)
            confusion(b, d, ch, cm);
    }
    sbs(b, "</div><p class=\"note\">Rows are the actual class, columns the predicted one; a "
           "cell's shade is its share of the row.");
    if (d->binary)
        sbf(b, " Predicted 1 when the score is above the threshold %s.", fnum(t, d->thr));
    sbs(b, "</p></section>\n");
}

static void section_regression(sb *b, doc *d)
{
    int ch = -1;
    const json_t *s = NULL;
    for (int c = 2; c >= 0 && !s; c--) {
        s = json_object_get(json_object_get(d->chans, CH_NAMES[c]), "samples");
        ch = c;
    }
    if (!s)
        return;
    const json_t *pa = json_object_get(s, "predicted"), *aa = json_object_get(s, "actual");
    size_t n = json_array_size(pa);
    if (n == 0 || json_array_size(aa) != n)
        return;
    double lo = INFINITY, hi = -INFINITY, rlo = INFINITY, rhi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double p = jnum(json_array_get(pa, i), NULL), a = jnum(json_array_get(aa, i), NULL);
        if (!isfinite(p) || !isfinite(a))
            continue;
        lo = fmin(lo, fmin(p, a));
        hi = fmax(hi, fmax(p, a));
        rlo = fmin(rlo, a - p);
        rhi = fmax(rhi, a - p);
    }
    range_pad(&lo, &hi);
    double m = fmax(fabs(rlo), fabs(rhi));
    rlo = -m;
    rhi = m;
    range_pad(&rlo, &rhi);
    sbf(b,
        "<section id=\"regression\"><h2>Predictions on the %s channel</h2><div "
        "class=\"grid\">\n",
        CH_NAMES[ch]);
    chart c = {++d->ids, lo, hi, lo, hi};
    chart_open(b, &c, "scatter", "Predicted vs actual", CH_NAMES[ch], "actual", "predicted", 0);
    sbf(b, "<line class=\"chance\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", cx(&c, lo),
        cy(&c, lo), cx(&c, hi), cy(&c, hi));
    for (size_t i = 0; i < n; i++) {
        double p = jnum(json_array_get(pa, i), NULL), a = jnum(json_array_get(aa, i), NULL);
        if (isfinite(p) && isfinite(a))
            sbf(b, "<circle class=\"dot\" cx=\"%.2f\" cy=\"%.2f\" r=\"2.4\"/>\n", cx(&c, a),
                cy(&c, p));
    }
    chart_close(b);
    sbs(b, "</figure>\n");
    chart r = {++d->ids, lo, hi, rlo, rhi};
    chart_open(b, &r, "residuals", "Residuals", CH_NAMES[ch], "predicted", "actual − predicted", 0);
    sbf(b, "<line class=\"chance\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", cx(&r, lo),
        cy(&r, 0), cx(&r, hi), cy(&r, 0));
    for (size_t i = 0; i < n; i++) {
        double p = jnum(json_array_get(pa, i), NULL), a = jnum(json_array_get(aa, i), NULL);
        if (isfinite(p) && isfinite(a))
            sbf(b, "<circle class=\"dot\" cx=\"%.2f\" cy=\"%.2f\" r=\"2.4\"/>\n", cx(&r, p),
                cy(&r, a - p));
    }
    chart_close(b);
    sbf(b,
        "</figure>\n</div><p class=\"note\">A sample of %zu rows of the %s channel scored by "
        "the selected model. On the left, points on the diagonal are exact; on the right, a "
        "band around zero without a slope or a funnel shape is what a good linear fit "
        "leaves.</p></section>\n",
        n, CH_NAMES[ch]);
}

/* The metrics under SageMaker's names, in the order metrics.c reports them. */
static const char *METRIC_NAMES[] = {
    "objective_loss",
    "binary_classification_accuracy",
    "binary_f_beta",
    "precision",
    "recall",
    "roc_auc_score",
    "multiclass_accuracy",
    "multiclass_top_k_accuracy",
    "dcg",
    "macro_recall",
    "macro_precision",
    "macro_f_beta",
    "multiclass_balanced_accuracy",
    "multiclass_log_loss",
    "mse",
    "rmse",
    "absolute_loss",
    "r2",
};

static void section_metrics(sb *b, doc *d)
{
    int has[3] = {0, 0, 0}, any = 0;
    char key[160], t[32];
    for (int ch = 0; ch < 3; ch++) {
        snprintf(key, sizeof key, "%s:objective_loss", CH_NAMES[ch]);
        has[ch] = json_object_get(d->metrics, key) != NULL;
        any |= has[ch];
    }
    if (!any)
        return;
    sbs(b, "<section id=\"metrics\"><h2>Metrics of the selected model</h2><div "
           "class=\"scroll\"><table class=\"metrics\"><thead><tr><th>metric</th>");
    for (int ch = 0; ch < 3; ch++)
        if (has[ch])
            sbf(b, "<th>%s</th>", CH_NAMES[ch]);
    sbs(b, "</tr></thead><tbody>\n");
    for (size_t i = 0; i < sizeof METRIC_NAMES / sizeof *METRIC_NAMES; i++) {
        int row = 0;
        for (int ch = 0; ch < 3; ch++) {
            snprintf(key, sizeof key, "%s:%s", CH_NAMES[ch], METRIC_NAMES[i]);
            row |= json_object_get(d->metrics, key) != NULL;
        }
        if (!row)
            continue;
        sbf(b, "<tr><td>%s</td>", METRIC_NAMES[i]);
        for (int ch = 0; ch < 3; ch++) {
            if (!has[ch])
                continue;
            snprintf(key, sizeof key, "%s:%s", CH_NAMES[ch], METRIC_NAMES[i]);
            sbf(b, "<td data-metric=\"%s\">%s</td>", key, fnum(t, jnum(d->metrics, key)));
        }
        sbs(b, "</tr>\n");
    }
    sbs(b, "</tbody></table></div></section>\n");
}

static void fact(sb *b, const char *name, const char *value)
{
    sbs(b, "<div><dt>");
    esc(b, name);
    sbs(b, "</dt><dd>");
    esc(b, value && *value ? value : "–");
    sbs(b, "</dd></div>\n");
}

static void section_facts(sb *b, doc *d)
{
    const json_t *run = json_object_get(d->hist, "run");
    char t[64], v[256];
    sbs(b, "<section id=\"facts\"><h2>The run</h2><dl class=\"facts\">\n");
    for (int ch = 0; ch < 3; ch++) {
        const char *src = jstr(run, CH_NAMES[ch]);
        if (!src)
            continue;
        double rows = jnum(json_object_get(d->chans, CH_NAMES[ch]), "rows");
        snprintf(v, sizeof v, "%s", src);
        char name[64];
        snprintf(name, sizeof name, "%s data", CH_NAMES[ch]);
        fact(b, name, v);
        snprintf(name, sizeof name, "%s rows", CH_NAMES[ch]);
        fact(b, name, fint(t, rows));
    }
    fact(b, "predictor_type", d->pred);
    fact(b, "features", jstr(d->hp, "feature_dim"));
    fact(b, "models trained together", jstr(d->hp, "num_models"));
    snprintf(v, sizeof v, "%s of %s", fint(t, jnum(d->root, "epochs_completed")),
             jstr(d->hp, "epochs") ? jstr(d->hp, "epochs") : "?");
    fact(b, "epochs", v);
    snprintf(v, sizeof v, "%s, %s", jstr(d->hp, "loss") ? jstr(d->hp, "loss") : "?",
             jstr(d->hp, "optimizer") ? jstr(d->hp, "optimizer") : "?");
    fact(b, "loss, optimizer", v);
    fact(b, "mini_batch_size", jstr(d->hp, "mini_batch_size"));
    fact(b, "wall time", fsecs(t, jnum(run, "seconds")));
    snprintf(v, sizeof v, "%s rows/s", fint(t, jnum(d->root, "rows_per_second")));
    fact(b, "training throughput", v);
    fact(b, "time to first batch", fsecs(t, jnum(d->root, "time_to_first_batch_ms") / 1000));
    fact(b, "finished", jstr(run, "finished"));
    snprintf(v, sizeof v, "linlearn %s", jstr(run, "version") ? jstr(run, "version") : "");
    fact(b, "made by", v);
    sbs(b, "</dl></section>\n");
}

/* Big numbers first: what the selected model achieves on the last channel it was scored on. */
static void headline(sb *b, doc *d)
{
    const char *ch = NULL;
    char key[160], t[32];
    for (int c = 2; c >= 0 && !ch; c--) {
        snprintf(key, sizeof key, "%s:objective_loss", CH_NAMES[c]);
        if (json_object_get(d->metrics, key))
            ch = CH_NAMES[c];
    }
    sbs(b, "<div class=\"kpis\">");
    sbf(b, "<div><span>selected model</span><b>%d</b><small>of %d</small></div>", d->selk, d->K);
    const json_t *sm = d->sel;
    sbf(b, "<div><span>learning_rate</span><b>%s</b>", fnum(t, jnum(sm, "learning_rate")));
    sbf(b, "<small>wd %s", fnum(t, jnum(sm, "wd")));
    sbf(b, ", l1 %s</small></div>", fnum(t, jnum(sm, "l1")));
    if (d->binary)
        sbf(b, "<div><span>threshold</span><b>%s</b><small>tuned</small></div>", fnum(t, d->thr));
    static const char *best[][2] = {{"binary_classification_accuracy", "accuracy"},
                                    {"roc_auc_score", "ROC AUC"},
                                    {"multiclass_accuracy", "accuracy"},
                                    {"macro_f_beta", "macro F"},
                                    {"rmse", "RMSE"},
                                    {"r2", "R²"}};
    for (size_t i = 0; ch && i < sizeof best / sizeof *best; i++) {
        snprintf(key, sizeof key, "%s:%s", ch, best[i][0]);
        double v = jnum(d->metrics, key);
        if (isfinite(v))
            sbf(b, "<div><span>%s</span><b>%s</b><small>%s</small></div>", best[i][1], fnum(t, v),
                ch);
    }
    sbs(b, "</div>\n");
}

static const char *CSS =
    ":root{--fg:#1f2328;--mut:#59636e;--line:#d1d9e0;--soft:#eef1f4;--acc:#d9480f;"
    "--blue:#1c7ed6;--grey:#98a2ad;--green:#2f9e44}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',"
    "Arial,sans-serif;color:var(--fg);background:#f6f8fa}\n"
    "main{max-width:1120px;margin:0 auto;padding:28px 18px 40px}\n"
    "header h1{font-size:26px;margin:0 0 2px;letter-spacing:-.01em}\n"
    ".sub{color:var(--mut);margin:0 0 14px}\n"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px}\n"
    ".kpis div{background:#fff;border:1px solid var(--line);border-radius:10px;padding:10px "
    "14px}\n"
    ".kpis span{display:block;color:var(--mut);font-size:12px;text-transform:uppercase;"
    "letter-spacing:.05em}\n"
    ".kpis b{display:block;font-size:24px;font-variant-numeric:tabular-nums}\n"
    ".kpis small{color:var(--mut)}\n"
    "section{background:#fff;border:1px solid var(--line);border-radius:10px;padding:16px "
    "20px;margin:16px 0}\n"
    "h2{font-size:18px;margin:0 0 12px}\n"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:18px 24px}\n"
    "figure{margin:0;min-width:0}\n"
    "figcaption{font-weight:600;font-size:14px;margin-bottom:4px}\n"
    "figcaption small{font-weight:400;color:var(--mut);margin-left:4px;overflow-wrap:anywhere}\n"
    ".grid.wide{grid-template-columns:repeat(auto-fit,minmax(420px,1fr))}\n"
    "svg{width:100%;height:auto;display:block;overflow:visible}\n"
    "svg text{font-size:13px;fill:var(--mut);font-variant-numeric:tabular-nums}\n"
    "svg text.axis{font-size:13px;fill:var(--fg)}\n"
    "rect.plot{fill:#fcfcfd;stroke:var(--line)}\n"
    "line.grid{stroke:var(--soft)}\n"
    "line.chance{stroke:var(--grey);stroke-dasharray:4 4}\n"
    "polyline{fill:none;stroke-linejoin:round;stroke-linecap:round}\n"
    "polyline.model{stroke:var(--grey);stroke-width:1.1;opacity:.55}\n"
    "polyline.model.selected{stroke:var(--acc);stroke-width:2.6;opacity:1}\n"
    "circle.pt{fill:var(--grey);opacity:.6}circle.pt.selected{fill:var(--acc);opacity:1}\n"
    "polyline.curve{stroke-width:2.2}\n"
    ".c-train{stroke:var(--grey)}.c-val{stroke:var(--blue)}.c-test{stroke:var(--acc)}\n"
    "line.chance.c-train,line.chance.c-val,line.chance.c-test{stroke-width:1;opacity:.6}\n"
    "circle.thr{fill:#fff;stroke-width:2.6}\n"
    "circle.kept{fill:none;stroke:var(--acc);stroke-width:2}\n"
    ".sw.ring{width:12px;height:12px;border:2px solid var(--acc);border-radius:50%}\n"
    "circle.dot{fill:var(--blue);opacity:.55}\n"
    ".legend{display:flex;flex-wrap:wrap;gap:2px 16px;font-size:13px;color:var(--mut);"
    "margin-top:4px}\n"
    ".sw{display:inline-block;width:18px;height:0;border-top:3px solid var(--grey);"
    "vertical-align:middle;margin-right:6px}\n"
    ".sw.sel{border-color:var(--acc)}.sw.other{border-top-width:1.5px}\n"
    ".sw.c-val{border-color:var(--blue)}.sw.c-test{border-color:var(--acc)}\n"
    ".sw.dot{width:11px;height:11px;border:2.5px solid var(--fg);border-radius:50%;"
    "background:#fff}\n"
    "table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:14px}\n"
    "th,td{padding:4px 10px;border-bottom:1px solid var(--soft);text-align:right;"
    "white-space:nowrap}\n"
    "thead th{color:var(--mut);font-weight:600;font-size:12px;border-bottom:1px solid "
    "var(--line)}\n"
    "th:first-child,td:first-child{text-align:left}\n"
    "table.models tr.sel td{background:#fff4e6;font-weight:600}\n"
    "table.confusion{width:auto}table.confusion td{text-align:center;min-width:64px}\n"
    "table.confusion.small td{min-width:0;font-size:11px;padding:2px 4px}\n"
    "td.mut{color:var(--mut);background:none!important}\n"
    ".scroll{overflow-x:auto}\n"
    "dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));"
    "gap:10px 18px;margin:0}\n"
    "dt{color:var(--mut);font-size:12px;text-transform:uppercase;letter-spacing:.04em}\n"
    "dd{margin:0;font-weight:600;overflow-wrap:anywhere}\n"
    ".note{color:var(--mut);font-size:13px;margin:10px 0 0}\n"
    "footer{color:var(--mut);font-size:12px;text-align:center;margin-top:18px}\n"
    "@media (max-width:640px){main{padding:14px 8px}section{padding:12px 12px}"
    ".grid.wide{grid-template-columns:1fr}"
    "table.metrics td:first-child{white-space:normal;overflow-wrap:anywhere}"
    "th,td{padding:3px 6px;font-size:13px}.kpis b{font-size:20px}}\n"
    "@media print{body{background:#fff;font-size:12px}main{max-width:none;padding:0}"
    "section,.kpis div{border:none;padding:0;margin:12px 0}section,figure{break-inside:avoid}"
    ".scroll{overflow:visible}.grid{grid-template-columns:repeat(2,1fr)}}\n";

char *report_html(const json_t *root)
{
    doc d;
    memset(&d, 0, sizeof d);
    d.root = root;
    d.hist = json_object_get(root, "history");
    d.hp = json_object_get(root, "hyperparameters");
    d.metrics = json_object_get(root, "metrics");
    d.sel = json_object_get(root, "selected_model");
    d.epochs = json_object_get(d.hist, "epochs");
    d.models = json_object_get(d.hist, "models");
    d.chans = json_object_get(d.hist, "channels");
    d.pred = jstr(d.hist, "predictor_type");
    if (!d.pred)
        d.pred = jstr(d.hp, "predictor_type");
    if (!d.pred)
        d.pred = "";
    d.binary = !strcmp(d.pred, "binary_classifier");
    d.multi = !strcmp(d.pred, "multiclass_classifier");
    d.regressor = !strcmp(d.pred, "regressor");
    d.K = (int)json_array_size(d.models);
    d.n_ep = (int)json_array_size(d.epochs);
    d.selk = (int)jnum(d.sel, "index");
    d.thr = jnum(d.sel, "threshold");
    if (!d.K) {
        double k = jnum(d.hp, "num_models");
        d.K = isfinite(k) ? (int)k : 0;
    }
    d.kept = kept_epoch(&d);
    sb b = {0};
    sbs(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>linlearn training report</title>\n<style>\n");
    sbs(&b, CSS);
    sbs(&b, "</style></head><body><main>\n<header><h1>Training report</h1><p class=\"sub\">");
    esc(&b, d.pred);
    const char *fin = jstr(json_object_get(d.hist, "run"), "finished");
    sbf(&b, " · %d model%s trained together", d.K, d.K == 1 ? "" : "s");
    if (fin) {
        sbs(&b, " · finished ");
        esc(&b, fin);
    }
    sbs(&b, "</p>\n");
    headline(&b, &d);
    sbs(&b, "</header>\n");
    section_metrics(&b, &d);
    section_curves(&b, &d);
    section_models(&b, &d);
    if (d.binary)
        section_roc(&b, &d);
    if (d.binary || d.multi)
        section_confusion(&b, &d);
    if (d.regressor)
        section_regression(&b, &d);
    section_facts(&b, &d);
    if (!d.hist)
        sbs(&b, "<p class=\"note\">This metrics file has no \"history\" object (written by an "
                "older linlearn): only the metrics are shown.</p>\n");
    sbs(&b, "<footer>Written by <code>linlearn report</code> from the metrics JSON of "
            "<code>linlearn train</code>; how to read each picture: docs/REPORT.md."
            "</footer>\n</main></body></html>\n");
    if (b.oom) {
        mem_free(b.p);
        return NULL;
    }
    return b.p;
}

static ll_code write_text(const char *path, const char *s, ll_err *err)
{
    return wr_write_file(path, s, strlen(s), err);
}

ll_code report_outputs(const json_t *doc_, const char *html, ll_log_fn summary, void *ud,
                       ll_err *err)
{
    if (html) {
        char *s = report_html(doc_);
        if (!s)
            return err_set(err, LL_E_NOMEM, "out of memory for the report");
        ll_code rc = write_text(html, s, err);
        free(s);
        if (rc != LL_OK)
            return rc;
    }
    if (summary) {
        char *s = json_dumps(doc_, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        if (!s)
            return err_set(err, LL_E_NOMEM, "out of memory for the summary");
        summary(ud, s);
        free(s);
    }
    return LL_OK;
}

ll_code ll_report_write(const char *metrics_json, const char *html_path, ll_err *err)
{
    json_error_t je;
    json_t *root = json_load_file(metrics_json, 0, &je);
    if (!root) {
        FILE *f = fopen(metrics_json, "rb");
        if (!f) {
            err_set(err, LL_E_IO, "cannot read the metrics file");
            return err_src(err, metrics_json);
        }
        fclose(f);
        err_set(err, LL_E_PARSE, "not JSON at line %d, column %d: %s", je.line, je.column, je.text);
        return err_src(err, metrics_json);
    }
    if (!json_is_object(root) || !json_object_get(root, "metrics") ||
        !json_object_get(root, "hyperparameters")) {
        json_decref(root);
        err_set(err, LL_E_PARSE,
                "not a metrics file of linlearn train --metrics-json (expected an object with "
                "\"hyperparameters\" and \"metrics\")");
        return err_src(err, metrics_json);
    }
    char *s = report_html(root);
    json_decref(root);
    if (!s)
        return err_set(err, LL_E_NOMEM, "out of memory for the report");
    ll_code rc = write_text(html_path, s, err);
    free(s);
    return rc;
}

char *ll_report_summary(const char *json)
{
    json_t *root = json_loads(json ? json : "", 0, NULL);
    if (!root)
        return NULL;
    const json_t *hp = json_object_get(root, "hyperparameters");
    const json_t *sel = json_object_get(root, "selected_model");
    const json_t *met = json_object_get(root, "metrics");
    if (!hp || !sel || !met) {
        json_decref(root);
        return NULL;
    }
    sb b = {0};
    char t1[32], t2[32], t3[32];
    const char *pred = jstr(hp, "predictor_type");
    sbf(&b, "Selected model %.0f of %s: learning_rate %s, wd %s, l1 %s, optimizer %s\n",
        jnum(sel, "index"), jstr(hp, "num_models") ? jstr(hp, "num_models") : "?",
        fnum(t1, jnum(sel, "learning_rate")), fnum(t2, jnum(sel, "wd")), fnum(t3, jnum(sel, "l1")),
        jstr(hp, "optimizer") ? jstr(hp, "optimizer") : "?");
    if (pred && !strcmp(pred, "binary_classifier"))
        sbf(&b, "Threshold %s (binary_classifier_model_selection_criteria=%s)\n",
            fnum(t1, jnum(sel, "threshold")),
            jstr(hp, "binary_classifier_model_selection_criteria")
                ? jstr(hp, "binary_classifier_model_selection_criteria")
                : "?");
    int has[3];
    char key[160];
    sbf(&b, "%-30s", "metric");
    for (int ch = 0; ch < 3; ch++) {
        snprintf(key, sizeof key, "%s:objective_loss", CH_NAMES[ch]);
        has[ch] = json_object_get(met, key) != NULL;
        if (has[ch])
            sbf(&b, " %12s", CH_NAMES[ch]);
    }
    sbs(&b, "\n");
    for (size_t i = 0; i < sizeof METRIC_NAMES / sizeof *METRIC_NAMES; i++) {
        int row = 0;
        for (int ch = 0; ch < 3; ch++) {
            snprintf(key, sizeof key, "%s:%s", CH_NAMES[ch], METRIC_NAMES[i]);
            row |= json_object_get(met, key) != NULL;
        }
        if (!row)
            continue;
        sbf(&b, "%-30s", METRIC_NAMES[i]);
        for (int ch = 0; ch < 3; ch++) {
            snprintf(key, sizeof key, "%s:%s", CH_NAMES[ch], METRIC_NAMES[i]);
            if (has[ch])
                sbf(&b, " %12s", fnum(t1, jnum(met, key)));
        }
        sbs(&b, "\n");
    }
    json_decref(root);
    if (b.oom) {
        mem_free(b.p);
        return NULL;
    }
    return b.p;
}
