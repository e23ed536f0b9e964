/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sm_model.c - reading and writing SageMaker Linear Learner's model artifact (layout in
 * sm_model.h, evidence in docs/MODEL.md): the NDArray list parser and writer, the two JSON
 * members and the symbol graph. The zip and tar layers are arch.c's.
 */
#include "sm_model.h"
#include "err.h"
#include "mem.h"
#include "model.h"
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PARAMS "mx-mod-0000.params"
#define SYMBOL "mx-mod-symbol.json"
#define ADDL "additional-params.json"
#define MANIFEST "manifest.json"
#define LIST_MAGIC 0x112u
#define ND_MAGIC_V2 0xF993FAC9u
#define ND_MAGIC_V3 0xF993FACAu

int sm_model_is(const arch_list *zip)
{
    return arch_find(zip, PARAMS) != NULL;
}

/* An error about one member of model_algo-1 at a byte offset of that member. */
static ll_code bad_at(ll_err *err, const char *src, const char *member, int64_t off,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static ll_code bad_at(ll_err *err, const char *src, const char *member, int64_t off,
                      const char *fmt, ...)
{
    char msg[200], where[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(err, LL_E_PARSE, "not a valid SageMaker model: %s: %s", member, msg);
    snprintf(where, sizeof where, "%s/%s", src, member);
    return off >= 0 ? err_at(err, where, (uint64_t)off) : err_src(err, where);
}

/* ---- the NDArray list ---- */

typedef struct nd_cur {
    const unsigned char *p;
    size_t len, pos;
} nd_cur;

static int take(nd_cur *c, size_t n, const unsigned char **q)
{
    if (c->len - c->pos < n)
        return 0;
    *q = c->p + c->pos;
    c->pos += n;
    return 1;
}

static uint64_t le(const unsigned char *q, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | q[i];
    return v;
}

typedef struct nd_array {
    uint64_t rows, cols;
    size_t data_off; /* byte offset of the float32 values */
    size_t off;      /* byte offset of the array's magic */
} nd_array;

static ll_code read_u(nd_cur *c, int n, uint64_t *v, const char *src, const char *what, ll_err *err)
{
    const unsigned char *q;
    size_t at = c->pos;
    *v = 0;
    if (!take(c, (size_t)n, &q))
        return bad_at(err, src, PARAMS, (int64_t)at,
                      "the file ends inside the %s (%zu bytes long, %d more needed)", what, c->len,
                      n);
    *v = le(q, n);
    return LL_OK;
}

static ll_code nd_parse(const char *src, const unsigned char *p, size_t len, nd_array *arr,
                        uint64_t *n_arr, size_t max_arr, const char **names, size_t *name_len,
                        ll_err *err)
{
    nd_cur c = {p, len, 0};
    uint64_t v = 0, n = 0;
    ll_code rc;
    if ((rc = read_u(&c, 8, &v, src, "list header", err)) != LL_OK)
        return rc;
    if (v != LIST_MAGIC)
        return bad_at(err, src, PARAMS, 0,
                      "expected the NDArray list magic 0x112, found 0x%llx (not an MXNet "
                      "parameter file)",
                      (unsigned long long)v);
    if ((rc = read_u(&c, 8, &v, src, "list header", err)) != LL_OK ||
        (rc = read_u(&c, 8, &n, src, "list header", err)) != LL_OK)
        return rc;
    if (n != max_arr)
        return bad_at(err, src, PARAMS, 16,
                      "expected %zu arrays (fc0_weight and fc0_bias), found %llu", max_arr,
                      (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        nd_array *a = &arr[i];
        a->off = c.pos;
        uint64_t magic = 0, stype = 0, ndim = 0;
        if ((rc = read_u(&c, 4, &magic, src, "array header", err)) != LL_OK)
            return rc;
        if (magic != ND_MAGIC_V2 && magic != ND_MAGIC_V3)
            return bad_at(err, src, PARAMS, (int64_t)a->off,
                          "array %llu: expected the NDArray magic C9 FA 93 F9, found 0x%08llx "
                          "(an older or foreign NDArray format)",
                          (unsigned long long)i, (unsigned long long)magic);
        size_t at = c.pos;
        if ((rc = read_u(&c, 4, &stype, src, "array header", err)) != LL_OK)
            return rc;
        if (stype != 0)
            return bad_at(err, src, PARAMS, (int64_t)at,
                          "array %llu: storage type %lld is not dense (0); sparse parameters are "
                          "not supported",
                          (unsigned long long)i, (long long)(int32_t)stype);
        at = c.pos;
        if ((rc = read_u(&c, 4, &ndim, src, "array header", err)) != LL_OK)
            return rc;
        if (ndim != 2)
            return bad_at(err, src, PARAMS, (int64_t)at,
                          "array %llu has %lld dimensions; expected a 2-D array",
                          (unsigned long long)i, (long long)(int32_t)ndim);
        uint64_t d[2];
        for (int k = 0; k < 2; k++) {
            at = c.pos;
            if ((rc = read_u(&c, 8, &d[k], src, "array shape", err)) != LL_OK)
                return rc;
            if ((int64_t)d[k] <= 0 || d[k] > (1ull << 40))
                return bad_at(err, src, PARAMS, (int64_t)at,
                              "array %llu: dimension %d is %lld, out of range",
                              (unsigned long long)i, k, (long long)d[k]);
        }
        uint64_t dev = 0, devid = 0, dtype = 0;
        if ((rc = read_u(&c, 4, &dev, src, "array context", err)) != LL_OK ||
            (rc = read_u(&c, 4, &devid, src, "array context", err)) != LL_OK)
            return rc;
        at = c.pos;
        if ((rc = read_u(&c, 4, &dtype, src, "array dtype", err)) != LL_OK)
            return rc;
        if (dtype != 0)
            return bad_at(err, src, PARAMS, (int64_t)at,
                          "array %llu: dtype %lld is not float32 (0)", (unsigned long long)i,
                          (long long)(int32_t)dtype);
        if (d[0] > (((uint64_t)8 << 30) / 4) / d[1])
            return bad_at(err, src, PARAMS, (int64_t)a->off,
                          "array %llu: %llu x %llu values exceed the 8 GiB limit",
                          (unsigned long long)i, (unsigned long long)d[0],
                          (unsigned long long)d[1]);
        uint64_t bytes = 4 * d[0] * d[1];
        const unsigned char *q;
        at = c.pos;
        if (!take(&c, (size_t)bytes, &q))
            return bad_at(err, src, PARAMS, (int64_t)at,
                          "array %llu declares %llu x %llu float32 values (%llu bytes) but the "
                          "file has %zu left",
                          (unsigned long long)i, (unsigned long long)d[0], (unsigned long long)d[1],
                          (unsigned long long)bytes, len - at);
        a->rows = d[0];
        a->cols = d[1];
        a->data_off = at;
    }
    size_t at = c.pos;
    if ((rc = read_u(&c, 8, &v, src, "name list", err)) != LL_OK)
        return rc;
    if (v != n)
        return bad_at(err, src, PARAMS, (int64_t)at, "%llu arrays but %llu names",
                      (unsigned long long)n, (unsigned long long)v);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t l = 0;
        at = c.pos;
        if ((rc = read_u(&c, 8, &l, src, "name list", err)) != LL_OK)
            return rc;
        const unsigned char *q;
        if (l > 4096 || !take(&c, (size_t)l, &q))
            return bad_at(err, src, PARAMS, (int64_t)at,
                          "name %llu declares %llu bytes; the file has %zu left",
                          (unsigned long long)i, (unsigned long long)l, len - c.pos);
        names[i] = (const char *)q;
        name_len[i] = (size_t)l;
    }
    if (c.pos != len)
        return bad_at(err, src, PARAMS, (int64_t)c.pos, "%zu unexpected bytes after the name list",
                      len - c.pos);
    *n_arr = n;
    return LL_OK;
}

static int name_is(const char *p, size_t n, const char *s)
{
    return n == strlen(s) && !memcmp(p, s, n);
}

static float getf(const unsigned char *q)
{
    uint32_t u = (uint32_t)le(q, 4);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- the JSON members ---- */

static json_t *load_json(const char *src, const arch_list *zip, const char *member, int required,
                         ll_code *rc, ll_err *err)
{
    const arch_member *m = arch_find(zip, member);
    *rc = LL_OK;
    if (!m) {
        if (required)
            *rc = bad_at(err, src, member, -1, "the zip has no %s", member);
        return NULL;
    }
    json_error_t je;
    json_t *j = json_loadb((const char *)m->data, m->len, 0, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        *rc = bad_at(err, src, member, j ? 0 : je.position, "not a JSON object (%s)",
                     j ? "another JSON value" : je.text);
        return NULL;
    }
    return j;
}

/* The op of the graph's output node (heads[0][0]). */
static const char *head_op(json_t *sym)
{
    json_t *nodes = json_object_get(sym, "nodes");
    json_t *heads = json_object_get(sym, "heads");
    json_t *h = json_array_get(json_array_get(heads, 0), 0);
    if (!json_is_array(nodes) || !json_is_integer(h))
        return NULL;
    json_t *node = json_array_get(nodes, (size_t)json_integer_value(h));
    return json_string_value(json_object_get(node, "op"));
}

ll_code sm_model_parse(const char *src, const arch_list *zip, ll_model **out, ll_err *err)
{
    *out = NULL;
    ll_code rc;
    ll_model *m = NULL;
    json_t *man = load_json(src, zip, MANIFEST, 0, &rc, err);
    json_t *add = rc == LL_OK ? load_json(src, zip, ADDL, 1, &rc, err) : NULL;
    json_t *sym = rc == LL_OK ? load_json(src, zip, SYMBOL, 1, &rc, err) : NULL;
    if (rc != LL_OK)
        goto done;
    if (man && !json_object_get(man, "mx-mod")) {
        rc = bad_at(err, src, MANIFEST, -1, "has no \"mx-mod\" entry (not an MXNet module)");
        goto done;
    }
    const char *pt = json_string_value(json_object_get(add, "predictor_type"));
    const char *loss = json_string_value(json_object_get(add, "loss_type"));
    json_t *th = json_object_get(add, "threshold");
    ll_predictor pred;
    if (pt && !strcmp(pt, "binary_classifier"))
        pred = LL_BINARY_CLASSIFIER;
    else if (pt && !strcmp(pt, "multiclass_classifier"))
        pred = LL_MULTICLASS_CLASSIFIER;
    else if (pt && !strcmp(pt, "regressor"))
        pred = LL_REGRESSOR;
    else {
        rc = bad_at(err, src, ADDL, -1,
                    "predictor_type is %s, expected binary_classifier, multiclass_classifier or "
                    "regressor",
                    pt ? pt : "missing");
        goto done;
    }
    if (th && !json_is_null(th) && (!json_is_number(th) || !isfinite(json_number_value(th)))) {
        rc = bad_at(err, src, ADDL, -1, "threshold is not a finite number");
        goto done;
    }
    const char *op = head_op(sym);
    model_score score;
    if (!op) {
        rc = bad_at(err, src, SYMBOL, -1, "no output node (heads[0] into nodes)");
        goto done;
    }
    if (!strcmp(op, "LogisticRegressionOutput") || !strcmp(op, "sigmoid"))
        score = MODEL_SCORE_SIGMOID;
    else if (!strcmp(op, "SoftmaxOutput") || !strcmp(op, "softmax"))
        score = MODEL_SCORE_SOFTMAX;
    else if (!strcmp(op, "LinearRegressionOutput") || !strcmp(op, "MAERegressionOutput") ||
             !strcmp(op, "broadcast_add"))
        score = pred == LL_BINARY_CLASSIFIER ? MODEL_SCORE_RAW : MODEL_SCORE_IDENTITY;
    else {
        rc = bad_at(err, src, SYMBOL, -1,
                    "output node op %s is not LogisticRegressionOutput, SoftmaxOutput or "
                    "LinearRegressionOutput",
                    op);
        goto done;
    }
    if (!((score == MODEL_SCORE_SIGMOID && pred == LL_BINARY_CLASSIFIER) ||
          (score == MODEL_SCORE_RAW && pred == LL_BINARY_CLASSIFIER) ||
          (score == MODEL_SCORE_SOFTMAX && pred == LL_MULTICLASS_CLASSIFIER) ||
          (score == MODEL_SCORE_IDENTITY && pred == LL_REGRESSOR))) {
        rc = bad_at(err, src, SYMBOL, -1, "output node %s does not fit predictor_type %s", op, pt);
        goto done;
    }
    const arch_member *pm = arch_find(zip, PARAMS);
    nd_array arr[2];
    const char *names[2];
    size_t nl[2];
    uint64_t n_arr = 0;
    rc = nd_parse(src, pm->data, pm->len, arr, &n_arr, 2, names, nl, err);
    if (rc != LL_OK)
        goto done;
    int iw = -1, ib = -1;
    for (int i = 0; i < 2; i++) {
        if (name_is(names[i], nl[i], "arg:fc0_weight"))
            iw = i;
        else if (name_is(names[i], nl[i], "arg:fc0_bias"))
            ib = i;
    }
    if (iw < 0 || ib < 0) {
        rc = bad_at(err, src, PARAMS, -1,
                    "the arrays are named %.*s and %.*s; expected arg:fc0_weight and "
                    "arg:fc0_bias",
                    (int)(nl[0] > 40 ? 40 : nl[0]), names[0], (int)(nl[1] > 40 ? 40 : nl[1]),
                    names[1]);
        goto done;
    }
    uint64_t D = arr[iw].rows, C = arr[iw].cols;
    if (arr[ib].rows * arr[ib].cols != C || (arr[ib].rows != 1 && arr[ib].cols != 1)) {
        rc = bad_at(err, src, PARAMS, (int64_t)arr[ib].off,
                    "fc0_bias is %llu x %llu; expected 1 x %llu to match fc0_weight (%llu x %llu)",
                    (unsigned long long)arr[ib].rows, (unsigned long long)arr[ib].cols,
                    (unsigned long long)C, (unsigned long long)D, (unsigned long long)C);
        goto done;
    }
    if ((pred == LL_MULTICLASS_CLASSIFIER) ? (C < 3 || C > 1000000) : C != 1) {
        rc = bad_at(err, src, PARAMS, (int64_t)arr[iw].off,
                    "fc0_weight has %llu columns; a %s has %s", (unsigned long long)C, pt,
                    pred == LL_MULTICLASS_CLASSIFIER ? "one per class (at least 3)" : "one");
        goto done;
    }
    rc = model_new(pred, score, D, (uint32_t)C, loss, &m, err);
    if (rc != LL_OK)
        goto done;
    const unsigned char *q = pm->data + arr[iw].data_off;
    for (size_t i = 0; i < D * C; i++)
        m->w[i] = getf(q + 4 * i);
    q = pm->data + arr[ib].data_off;
    for (size_t c = 0; c < C; c++)
        m->b[c] = getf(q + 4 * c);
    for (size_t i = 0; i < D * C + C; i++) {
        float f = i < D * C ? m->w[i] : m->b[i - D * C];
        if (!isfinite(f)) {
            size_t at = i < D * C ? arr[iw].data_off + 4 * i : arr[ib].data_off + 4 * (i - D * C);
            rc = bad_at(err, src, PARAMS, (int64_t)at, "a non-finite %s value",
                        i < D * C ? "fc0_weight" : "fc0_bias");
            goto done;
        }
    }
    if (json_is_number(th))
        m->threshold = (float)json_number_value(th);
    /* keep what SageMaker recorded, so that a written-back artifact carries it */
    json_t *mp = json_object_get(add, "metrics_params");
    if (json_is_object(mp)) {
        json_t *info = json_object();
        json_object_set(info, "sagemaker_metrics_params", mp);
        char *s = json_dumps(info, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
        json_decref(info);
        rc = s ? model_set_info(m, s, NULL, err) : err_set(err, LL_E_NOMEM, "out of memory");
        free(s);
    }
done:
    json_decref(man);
    json_decref(add);
    json_decref(sym);
    if (rc != LL_OK) {
        ll_model_free(m);
        m = NULL;
    }
    *out = m;
    return rc;
}

/* ---- writing ---- */

int sm_py_repr(double v, char *out)
{
    if (!isfinite(v))
        return sprintf(out, "%s", isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
    if (v == 0)
        return sprintf(out, "%s", signbit(v) ? "-0.0" : "0.0");
    char e[40];
    int p;
    for (p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        if (strtod(e, NULL) == v)
            break;
    }
    /* e is "-d.ddde+XX": digits and exponent */
    char dig[24];
    int nd = 0, neg = e[0] == '-';
    const char *s = e + neg;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            dig[nd++] = *s;
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    int x = atoi(s + 1);
    char *o = out;
    if (neg)
        *o++ = '-';
    if (x >= -5 + 1 && x < 16) { /* Python: fixed notation for 1e-4 <= |v| < 1e16 */
        if (x < 0) {
            o += sprintf(o, "0.");
            for (int i = -1; i > x; i--)
                *o++ = '0';
            memcpy(o, dig, (size_t)nd);
            o += nd;
        } else {
            for (int i = 0; i <= x; i++)
                *o++ = i < nd ? dig[i] : '0';
            *o++ = '.';
            if (nd > x + 1) {
                memcpy(o, dig + x + 1, (size_t)(nd - x - 1));
                o += nd - x - 1;
            } else
                *o++ = '0';
        }
    } else {
        *o++ = dig[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, dig + 1, (size_t)(nd - 1));
            o += nd - 1;
        }
        o += sprintf(o, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    }
    *o = 0;
    return (int)(o - out);
}

/* A hyperparameter of the model as a JSON number text, or NULL. */
static const char *hp_num(json_t *hp, const char *name, char *buf)
{
    json_t *v = json_object_get(hp, name);
    double d;
    char *end;
    if (json_is_number(v))
        d = json_number_value(v);
    else if (json_is_string(v)) {
        d = strtod(json_string_value(v), &end);
        if (end == json_string_value(v) || *end)
            return NULL;
    } else
        return NULL;
    sm_py_repr(d, buf);
    return buf;
}

/* The metrics_params value for key: recorded by SageMaker (a model read from its artifact),
 * else from the hyperparameters when the loss uses it, else dflt (a JSON text). */
static void put_param(char *o, size_t cap, json_t *hp, json_t *mp, const char *key,
                      const char *hp_name, int used, const char *dflt)
{
    char b[32];
    const char *v = NULL;
    json_t *rec = json_object_get(mp, key);
    char *tmp = NULL;
    if (rec) {
        tmp = json_dumps(rec, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
        if (tmp && json_is_real(rec))
            v = (sm_py_repr(json_real_value(rec), b), b);
        else
            v = tmp;
    } else if (used && hp_name)
        v = hp_num(hp, hp_name, b);
    if (!v)
        v = dflt;
    size_t k = strlen(o);
    snprintf(o + k, cap - k, "%s\"%s\": %s", k && o[k - 1] != '{' ? ", " : "", key, v);
    free(tmp);
}

static char *addl_text(const ll_model *m)
{
    json_t *info = m->hp_json ? json_loads(m->hp_json, 0, NULL) : NULL;
    json_t *mp = json_object_get(info, "sagemaker_metrics_params");
    json_t *hp = info;
    const char *loss = m->loss ? m->loss : "";
    char th[32], mps[1024] = "{";
    sm_py_repr((double)m->threshold, th);
    int bin = m->pred == LL_BINARY_CLASSIFIER;
    put_param(mps, sizeof mps, hp, mp, "quantile", "quantile", !strcmp(loss, "quantile_loss"),
              "null");
    put_param(mps, sizeof mps, hp, mp, "huber_delta", "huber_delta", !strcmp(loss, "huber_loss"),
              "null");
    put_param(mps, sizeof mps, hp, mp, "margin", "margin", !strcmp(loss, "hinge_loss"), "null");
    put_param(mps, sizeof mps, hp, mp, "loss_insensitivity", "loss_insensitivity",
              !strncmp(loss, "eps_insensitive", 15), "null");
    put_param(mps, sizeof mps, hp, mp, "eps_insensitive_loss_type", NULL, 0, "null");
    put_param(mps, sizeof mps, hp, mp, "accuracy_top_k", "accuracy_top_k",
              m->pred == LL_MULTICLASS_CLASSIFIER, "3");
    put_param(mps, sizeof mps, hp, mp, "f_beta", "f_beta", bin, bin ? "1.0" : "null");
    put_param(mps, sizeof mps, hp, mp, "positive_example_weight_mult",
              "positive_example_weight_mult", bin, "1.0");
    put_param(mps, sizeof mps, hp, mp, "class_weights", NULL, 0, "null");
    size_t k = strlen(mps);
    snprintf(mps + k, sizeof mps - k, ", \"threshold\": %s}", th);
    json_decref(info);
    /* accuracy_top_k is an integer in SageMaker's file */
    char *acc = strstr(mps, "\"accuracy_top_k\": ");
    if (acc) {
        char *num = acc + 18, *end = num + strcspn(num, ",}");
        if (end - num > 2 && !memcmp(end - 2, ".0", 2))
            memmove(end - 2, end, strlen(end) + 1);
    }
    size_t cap = strlen(mps) + 256;
    char *s = mem_alloc(cap);
    if (s)
        snprintf(s, cap,
                 "{\"threshold\": %s, \"loss_type\": \"%s\", \"predictor_type\": \"%s\", "
                 "\"metrics_params\": %s}",
                 th, loss, ll_predictor_name(m->pred), mps);
    return s;
}

static char *symbol_text(const ll_model *m)
{
    const char *op, *name;
    switch (m->score) {
    case MODEL_SCORE_SIGMOID:
        op = "LogisticRegressionOutput";
        name = "logisticregressionoutput32";
        break;
    case MODEL_SCORE_SOFTMAX:
        op = "SoftmaxOutput";
        name = "softmaxoutput32";
        break;
    default:
        op = "LinearRegressionOutput";
        name = "linearregressionoutput32";
        break;
    }
    size_t cap = 2048;
    char *s = mem_alloc(cap);
    if (!s)
        return NULL;
    snprintf(s, cap,
             "{\n"
             "  \"nodes\": [\n"
             "    {\n"
             "      \"op\": \"null\", \n"
             "      \"name\": \"data\", \n"
             "      \"inputs\": []\n"
             "    }, \n"
             "    {\n"
             "      \"op\": \"null\", \n"
             "      \"name\": \"fc0_weight\", \n"
             "      \"attrs\": {\"__shape__\": \"(%llu, %u)\"}, \n"
             "      \"inputs\": []\n"
             "    }, \n"
             "    {\n"
             "      \"op\": \"dot\", \n"
             "      \"name\": \"dot0\", \n"
             "      \"inputs\": [[0, 0, 0], [1, 0, 0]]\n"
             "    }, \n"
             "    {\n"
             "      \"op\": \"null\", \n"
             "      \"name\": \"fc0_bias\", \n"
             "      \"attrs\": {\n"
             "        \"__lr_mult__\": \"10.0\", \n"
             "        \"__shape__\": \"(1, %u)\"\n"
             "      }, \n"
             "      \"inputs\": []\n"
             "    }, \n"
             "    {\n"
             "      \"op\": \"broadcast_add\", \n"
             "      \"name\": \"broadcast_plus32\", \n"
             "      \"inputs\": [[2, 0, 0], [3, 0, 0]]\n"
             "    }, \n"
             "    {\n"
             "      \"op\": \"null\", \n"
             "      \"name\": \"out_label\", \n"
             "      \"inputs\": []\n"
             "    }, \n"
             "    {\n"
             "      \"op\": \"%s\", \n"
             "      \"name\": \"%s\", \n"
             "      \"inputs\": [[4, 0, 0], [5, 0, 0]]\n"
             "    }\n"
             "  ], \n"
             "  \"arg_nodes\": [0, 1, 3, 5], \n"
             "  \"node_row_ptr\": [0, 1, 2, 3, 4, 5, 6, 7], \n"
             "  \"heads\": [[6, 0, 0]], \n"
             "  \"attrs\": {\"mxnet_version\": [\"int\", 10301]}\n"
             "}",
             (unsigned long long)m->feature_dim, m->n_out, m->n_out, op, name);
    return s;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static unsigned char *put_array(unsigned char *p, const float *v, uint64_t rows, uint64_t cols)
{
    put_le(p, ND_MAGIC_V2, 4);
    put_le(p + 4, 0, 4);
    put_le(p + 8, 2, 4);
    put_le(p + 12, rows, 8);
    put_le(p + 20, cols, 8);
    put_le(p + 28, 1, 4);
    put_le(p + 32, 0, 4);
    put_le(p + 36, 0, 4);
    p += 40;
    for (uint64_t i = 0; i < rows * cols; i++, p += 4) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        put_le(p, u, 4);
    }
    return p;
}

static unsigned char *params_bytes(const ll_model *m, size_t *len)
{
    static const char *names[2] = {"arg:fc0_weight", "arg:fc0_bias"};
    size_t D = (size_t)m->feature_dim, C = m->n_out;
    *len = 24 + (40 + 4 * D * C) + (40 + 4 * C) + 8 + 8 + strlen(names[0]) + 8 + strlen(names[1]);
    unsigned char *p = mem_alloc(*len), *q = p;
    if (!p)
        return NULL;
    put_le(q, LIST_MAGIC, 8);
    put_le(q + 8, 0, 8);
    put_le(q + 16, 2, 8);
    q = put_array(q + 24, m->w, D, C);
    q = put_array(q, m->b, 1, C);
    put_le(q, 2, 8);
    q += 8;
    for (int i = 0; i < 2; i++) {
        size_t l = strlen(names[i]);
        put_le(q, l, 8);
        memcpy(q + 8, names[i], l);
        q += 8 + l;
    }
    return p;
}

ll_code sm_model_zip(const ll_model *m, int64_t mtime, unsigned char **out, size_t *len,
                     ll_err *err)
{
    static const char man[] =
        "{\"mx-mod\": \"mxnet_module\", \"additional-params.json\": \"json\", \"version\": 1}";
    char *addl = addl_text(m), *sym = symbol_text(m);
    size_t plen = 0;
    unsigned char *params = params_bytes(m, &plen);
    ll_code rc;
    if (!addl || !sym || !params)
        rc = err_set(err, LL_E_NOMEM, "out of memory writing a SageMaker model");
    else {
        arch_member mem[4] = {
            {(char *)MANIFEST, (unsigned char *)man, sizeof man - 1},
            {(char *)ADDL, (unsigned char *)addl, strlen(addl)},
            {(char *)SYMBOL, (unsigned char *)sym, strlen(sym)},
            {(char *)PARAMS, params, plen},
        };
        rc = arch_zip_stored(mem, 4, mtime, out, len, err);
    }
    mem_free(addl);
    mem_free(sym);
    mem_free(params);
    return rc;
}

ll_code sm_model_write(const ll_model *m, ll_writer *w, const arch_member *extra, size_t n_extra,
                       ll_err *err)
{
    int64_t now = (int64_t)time(NULL);
    unsigned char *zip = NULL;
    size_t zlen = 0;
    ll_code rc = sm_model_zip(m, now, &zip, &zlen, err);
    if (rc != LL_OK)
        return rc;
    arch_member *all = mem_calloc(n_extra + 1, sizeof *all);
    if (!all) {
        mem_free(zip);
        return err_set(err, LL_E_NOMEM, "out of memory writing a SageMaker model");
    }
    all[0] = (arch_member){(char *)"model_algo-1", zip, zlen};
    for (size_t i = 0; i < n_extra; i++)
        all[i + 1] = extra[i];
    rc = arch_write_targz(w, all, n_extra + 1, now, err);
    mem_free(all);
    mem_free(zip);
    return rc;
}
