/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model.c - the model artifact: building, saving (model.tar.gz via libarchive, written under a
 * temporary name and renamed), loading with every field checked, and scoring batches of raw
 * features. Layout: model.h and docs/MODEL.md. Training itself lives in sgd.c/train.c.
 */
#include "model.h"
#include "arch.h"
#include "err.h"
#include "mem.h"
#include "onnx.h"
#include "sm_model.h"
#include "wr.h"
#include <cblas.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define MAX_MANIFEST (64u << 20)
#define MAX_WEIGHTS ((uint64_t)8 << 30)

const char *ll_predictor_name(ll_predictor p)
{
    switch (p) {
    case LL_BINARY_CLASSIFIER:
        return "binary_classifier";
    case LL_MULTICLASS_CLASSIFIER:
        return "multiclass_classifier";
    case LL_REGRESSOR:
        return "regressor";
    }
    return "?";
}

static const char *score_name(model_score s)
{
    switch (s) {
    case MODEL_SCORE_IDENTITY:
        return "identity";
    case MODEL_SCORE_SIGMOID:
        return "sigmoid";
    case MODEL_SCORE_RAW:
        return "raw";
    case MODEL_SCORE_SOFTMAX:
        return "softmax";
    }
    return "?";
}

static int score_ok(ll_predictor p, model_score s)
{
    switch (p) {
    case LL_BINARY_CLASSIFIER:
        return s == MODEL_SCORE_SIGMOID || s == MODEL_SCORE_RAW;
    case LL_MULTICLASS_CLASSIFIER:
        return s == MODEL_SCORE_SOFTMAX;
    case LL_REGRESSOR:
        return s == MODEL_SCORE_IDENTITY;
    }
    return 0;
}

ll_code model_new(ll_predictor pred, model_score score, uint64_t feature_dim, uint32_t n_out,
                  const char *loss, ll_model **out, ll_err *err)
{
    *out = NULL;
    if (!score_ok(pred, score))
        return err_set(err, LL_E_ARG, "score function %s does not fit a %s", score_name(score),
                       ll_predictor_name(pred));
    if (feature_dim == 0 || feature_dim > (1ull << 40))
        return err_set(err, LL_E_ARG, "feature_dim %llu is out of range",
                       (unsigned long long)feature_dim);
    if ((pred == LL_MULTICLASS_CLASSIFIER) ? n_out < 3 : n_out != 1)
        return err_set(err, LL_E_ARG, "a %s cannot have %u outputs", ll_predictor_name(pred),
                       n_out);
    if (feature_dim * n_out * 4 > MAX_WEIGHTS)
        return err_set(err, LL_E_TOOBIG, "%llu x %u weights exceed the 8 GiB limit",
                       (unsigned long long)feature_dim, n_out);
    ll_model *m = mem_calloc(1, sizeof *m);
    if (!m)
        return err_set(err, LL_E_NOMEM, "out of memory for a model");
    m->pred = pred;
    m->score = score;
    m->feature_dim = feature_dim;
    m->n_out = n_out;
    m->threshold = 0.5f;
    m->w = mem_calloc((size_t)feature_dim * n_out, sizeof *m->w);
    m->b = mem_calloc(n_out, sizeof *m->b);
    m->loss = mem_strdup(loss ? loss : "");
    if (!m->w || !m->b || !m->loss) {
        ll_model_free(m);
        return err_set(err, LL_E_NOMEM, "out of memory for %llu x %u weights",
                       (unsigned long long)feature_dim, n_out);
    }
    *out = m;
    return LL_OK;
}

void ll_model_free(ll_model *m)
{
    if (!m)
        return;
    mem_free(m->w);
    mem_free(m->b);
    mem_free(m->loss);
    mem_free(m->hp_json);
    mem_free(m->met_json);
    mem_free(m);
}

static ll_code set_json_text(char **slot, const char *text, const char *what, ll_err *err)
{
    mem_free(*slot);
    *slot = NULL;
    if (!text)
        return LL_OK;
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    int ok = j && json_is_object(j);
    json_decref(j);
    if (!ok)
        return err_set(err, LL_E_ARG, "%s is not a JSON object", what);
    *slot = mem_strdup(text);
    return *slot ? LL_OK : err_set(err, LL_E_NOMEM, "out of memory");
}

ll_code model_set_info(ll_model *m, const char *hp_json, const char *met_json, ll_err *err)
{
    ll_code rc = set_json_text(&m->hp_json, hp_json, "the hyperparameter set", err);
    if (rc == LL_OK)
        rc = set_json_text(&m->met_json, met_json, "the metric set", err);
    return rc;
}

ll_predictor ll_model_predictor(const ll_model *m)
{
    return m->pred;
}

uint64_t ll_model_feature_dim(const ll_model *m)
{
    return m->feature_dim;
}

uint32_t ll_model_n_outputs(const ll_model *m)
{
    return m->n_out;
}

float ll_model_threshold(const ll_model *m)
{
    return m->threshold;
}

/* ---- scoring ---- */

ll_code model_raw(const ll_model *m, const ll_batch *b, float *z, ll_err *err)
{
    const uint64_t D = m->feature_dim;
    const uint32_t C = m->n_out;
    size_t n = b->n_rows;
    if (n == 0)
        return LL_OK;
    if (b->dense && b->width == D && D <= INT32_MAX && n <= INT32_MAX) {
        for (size_t i = 0; i < n; i++)
            memcpy(z + i * C, m->b, C * sizeof *z);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)C, (int)D, 1.0f, b->val,
                    (int)D, m->w, (int)C, 1.0f, z, (int)C);
        return LL_OK;
    }
    for (size_t i = 0; i < n; i++) {
        float *zi = z + i * C;
        memcpy(zi, m->b, C * sizeof *z);
        const float *v = b->val + b->off[i];
        size_t nv = b->off[i + 1] - b->off[i];
        if (!b->sparse[i]) {
            if (b->dim[i] != D)
                return err_set(err, LL_E_ARG,
                               "row %zu: the feature dimension of the input: %llu does not match "
                               "the feature dimension of the model: %llu",
                               i + 1, (unsigned long long)b->dim[i], (unsigned long long)D);
            for (uint64_t j = 0; j < D; j++) {
                float x = v[j];
                if (x == 0.0f)
                    continue;
                const float *wj = m->w + j * C;
                for (uint32_t c = 0; c < C; c++)
                    zi[c] += x * wj[c];
            }
        } else {
            const uint32_t *ix = b->idx + b->off[i];
            if (b->dim[i] > D)
                return err_set(err, LL_E_ARG,
                               "row %zu: the feature dimension of the input: %llu does not match "
                               "the feature dimension of the model: %llu",
                               i + 1, (unsigned long long)b->dim[i], (unsigned long long)D);
            for (size_t k = 0; k < nv; k++) {
                if (ix[k] >= D)
                    return err_set(err, LL_E_ARG,
                                   "row %zu: feature index %u is outside the model's "
                                   "feature_dim %llu",
                                   i + 1, ix[k], (unsigned long long)D);
                const float *wj = m->w + (size_t)ix[k] * C;
                for (uint32_t c = 0; c < C; c++)
                    zi[c] += v[k] * wj[c];
            }
        }
    }
    return LL_OK;
}

ll_code ll_model_predict(const ll_model *m, const ll_batch *b, float *scores, float *labels,
                         ll_err *err)
{
    ll_code rc = model_raw(m, b, scores, err);
    if (rc != LL_OK)
        return rc;
    const uint32_t C = m->n_out;
    for (size_t i = 0; i < b->n_rows; i++) {
        float *s = scores + i * C;
        switch (m->score) {
        case MODEL_SCORE_IDENTITY:
            if (labels)
                labels[i] = s[0];
            break;
        case MODEL_SCORE_SIGMOID:
            s[0] = s[0] >= 0 ? 1.0f / (1.0f + expf(-s[0])) : expf(s[0]) / (1.0f + expf(s[0]));
            /* fallthrough */
        case MODEL_SCORE_RAW:
            if (labels)
                labels[i] = s[0] > m->threshold ? 1.0f : 0.0f;
            break;
        case MODEL_SCORE_SOFTMAX: {
            float mx = s[0];
            uint32_t arg = 0;
            for (uint32_t c = 1; c < C; c++)
                if (s[c] > mx) {
                    mx = s[c];
                    arg = c;
                }
            float sum = 0;
            for (uint32_t c = 0; c < C; c++) {
                s[c] = expf(s[c] - mx);
                sum += s[c];
            }
            for (uint32_t c = 0; c < C; c++)
                s[c] /= sum;
            if (labels)
                labels[i] = (float)arg;
            break;
        }
        }
    }
    return LL_OK;
}

/* ---- serialisation ---- */

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void putf(unsigned char *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(p, u);
}

static float getf(const unsigned char *p)
{
    uint32_t u = get32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t crc_of(const unsigned char *p, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (len > 0) {
        uInt k = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c = crc32(c, p, k);
        p += k;
        len -= k;
    }
    return (uint32_t)c;
}

static json_t *manifest_json(const ll_model *m, size_t wlen, uint32_t crc)
{
    json_t *j = json_object();
    json_object_set_new(j, "format", json_string(MODEL_FORMAT));
    json_object_set_new(j, "format_version", json_integer(MODEL_VERSION));
    json_object_set_new(j, "predictor_type", json_string(ll_predictor_name(m->pred)));
    json_object_set_new(j, "loss", json_string(m->loss));
    json_object_set_new(j, "score", json_string(score_name(m->score)));
    json_object_set_new(j, "feature_dim", json_integer((json_int_t)m->feature_dim));
    uint32_t ncls = m->pred == LL_MULTICLASS_CLASSIFIER ? m->n_out
                    : m->pred == LL_BINARY_CLASSIFIER   ? 2
                                                        : 1;
    json_object_set_new(j, "num_classes", json_integer(ncls));
    json_object_set_new(j, "n_outputs", json_integer(m->n_out));
    json_object_set_new(j, "threshold", json_real(m->threshold));
    json_t *wj = json_object();
    json_object_set_new(wj, "file", json_string("weights.bin"));
    json_object_set_new(wj, "bytes", json_integer((json_int_t)wlen));
    json_object_set_new(wj, "crc32", json_integer(crc));
    json_object_set_new(wj, "layout", json_string("float32-le, feature-major (j*n_outputs+c)"));
    json_object_set_new(j, "weights", wj);
    json_t *hp = m->hp_json ? json_loads(m->hp_json, 0, NULL) : NULL;
    json_object_set_new(j, "hyperparameters", hp ? hp : json_object());
    json_t *met = m->met_json ? json_loads(m->met_json, 0, NULL) : NULL;
    json_object_set_new(j, "metrics", met ? met : json_object());
    return j;
}

static size_t weights_len(const ll_model *m)
{
    return MODEL_WEIGHTS_HDR + 4 * ((size_t)m->feature_dim * m->n_out + m->n_out) + 4;
}

char *model_manifest_text(const ll_model *m)
{
    json_t *j = manifest_json(m, weights_len(m), 0);
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(j);
    char *r = s ? mem_strdup(s) : NULL;
    free(s);
    return r;
}

ll_code model_serialize(const ll_model *m, char **manifest, size_t *mlen, unsigned char **wbin,
                        size_t *wlen, ll_err *err)
{
    *manifest = NULL;
    *wbin = NULL;
    size_t nw = (size_t)m->feature_dim * m->n_out;
    size_t len = weights_len(m);
    unsigned char *p = mem_alloc(len);
    if (!p)
        return err_set(err, LL_E_NOMEM, "out of memory for %zu bytes of weights", len);
    memcpy(p, MODEL_WEIGHTS_MAGIC, 4);
    put32(p + 4, MODEL_VERSION);
    put64(p + 8, m->feature_dim);
    put32(p + 16, m->n_out);
    put32(p + 20, 0);
    put64(p + 24, nw);
    unsigned char *q = p + MODEL_WEIGHTS_HDR;
    for (size_t i = 0; i < nw; i++, q += 4)
        putf(q, m->w[i]);
    for (uint32_t c = 0; c < m->n_out; c++, q += 4)
        putf(q, m->b[c]);
    uint32_t crc = crc_of(p, len - 4);
    put32(q, crc);
    json_t *j = manifest_json(m, len, crc);
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(j);
    if (!s) {
        mem_free(p);
        return err_set(err, LL_E_NOMEM, "cannot format the manifest");
    }
    *manifest = mem_strdup(s);
    free(s);
    if (!*manifest) {
        mem_free(p);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    *mlen = strlen(*manifest);
    *wbin = p;
    *wlen = len;
    return LL_OK;
}

/* ---- parsing and checks ---- */

static ll_code bad(ll_err *err, const char *src, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ll_code bad(ll_err *err, const char *src, const char *fmt, ...)
{
    char msg[224];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(err, LL_E_PARSE, "not a valid linlearn model: %.224s", msg);
    err_src(err, src);
    return LL_E_PARSE;
}

static int get_uint(json_t *j, const char *key, uint64_t *v)
{
    json_t *x = json_object_get(j, key);
    if (!json_is_integer(x) || json_integer_value(x) < 0)
        return 0;
    *v = (uint64_t)json_integer_value(x);
    return 1;
}

static const char *get_str(json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

ll_code model_parse(const char *src, const char *manifest, size_t mlen, const unsigned char *wbin,
                    size_t wlen, ll_model **out, ll_err *err)
{
    *out = NULL;
    json_error_t je;
    json_t *j = json_loadb(manifest, mlen, 0, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return bad(err, src, "manifest.json is not a JSON object (%s, line %lld)", je.text,
                   (long long)je.line);
    }
    ll_code rc = LL_OK;
    ll_model *m = NULL;
    uint64_t ver = 0, dim = 0, nout = 0, ncls = 0, bytes = 0, crc = 0;
    const char *fmt = get_str(j, "format");
    const char *pt = get_str(j, "predictor_type");
    const char *sc = get_str(j, "score");
    const char *loss = get_str(j, "loss");
    json_t *wj = json_object_get(j, "weights");
    json_t *th = json_object_get(j, "threshold");
    ll_predictor pred = LL_REGRESSOR;
    model_score score = MODEL_SCORE_IDENTITY;
    if (!fmt || strcmp(fmt, MODEL_FORMAT)) {
        rc = bad(err, src, "manifest \"format\" is %s, expected \"linlearn-model\"",
                 fmt ? fmt : "missing");
        goto out;
    }
    if (!get_uint(j, "format_version", &ver) || ver != MODEL_VERSION) {
        rc = bad(err, src, "format_version %lld is not supported (this build reads 1)",
                 (long long)ver);
        goto out;
    }
    if (pt && !strcmp(pt, "binary_classifier"))
        pred = LL_BINARY_CLASSIFIER;
    else if (pt && !strcmp(pt, "multiclass_classifier"))
        pred = LL_MULTICLASS_CLASSIFIER;
    else if (!pt || strcmp(pt, "regressor")) {
        rc = bad(err, src,
                 "predictor_type %s is not one of binary_classifier, "
                 "multiclass_classifier, regressor",
                 pt ? pt : "(missing)");
        goto out;
    }
    if (!sc) {
        rc = bad(err, src, "manifest has no \"score\" field");
        goto out;
    }
    if (!strcmp(sc, "identity"))
        score = MODEL_SCORE_IDENTITY;
    else if (!strcmp(sc, "sigmoid"))
        score = MODEL_SCORE_SIGMOID;
    else if (!strcmp(sc, "raw"))
        score = MODEL_SCORE_RAW;
    else if (!strcmp(sc, "softmax"))
        score = MODEL_SCORE_SOFTMAX;
    else {
        rc = bad(err, src, "unknown score function \"%s\"", sc);
        goto out;
    }
    if (!score_ok(pred, score)) {
        rc = bad(err, src, "score function \"%s\" does not fit the predictor type", sc);
        goto out;
    }
    if (!get_uint(j, "feature_dim", &dim) || dim == 0 || dim > (1ull << 40)) {
        rc = bad(err, src, "feature_dim is missing or out of range (%lld)", (long long)dim);
        goto out;
    }
    if (!get_uint(j, "n_outputs", &nout) || !get_uint(j, "num_classes", &ncls)) {
        rc = bad(err, src, "manifest lacks n_outputs or num_classes");
        goto out;
    }
    if (pred == LL_MULTICLASS_CLASSIFIER
            ? (nout < 3 || nout > 1000000 || ncls != nout)
            : (nout != 1 || ncls != (pred == LL_BINARY_CLASSIFIER ? 2u : 1u))) {
        rc = bad(err, src, "n_outputs %lld does not fit the predictor type and num_classes",
                 (long long)nout);
        goto out;
    }
    if (!json_is_number(th) || !isfinite(json_number_value(th))) {
        rc = bad(err, src, "threshold is missing or not a finite number");
        goto out;
    }
    if (!json_is_object(wj) || !get_str(wj, "file") || strcmp(get_str(wj, "file"), "weights.bin") ||
        !get_uint(wj, "bytes", &bytes) || !get_uint(wj, "crc32", &crc)) {
        rc = bad(err, src, "manifest \"weights\" entry is missing or malformed");
        goto out;
    }
    if (dim * nout * 4 > MAX_WEIGHTS) {
        rc = bad(err, src, "%lld weights exceed the 8 GiB limit", (long long)(dim * nout));
        goto out;
    }
    uint64_t want = MODEL_WEIGHTS_HDR + 4 * (dim * nout + nout) + 4;
    if (bytes != want || wlen != want) {
        char what[96];
        snprintf(what, sizeof what, "weights.bin has %zu bytes (manifest says %llu)", wlen,
                 (unsigned long long)bytes);
        rc = bad(err, src, "%s, expected %lld for the manifest's shape", what, (long long)want);
        goto out;
    }
    if (memcmp(wbin, MODEL_WEIGHTS_MAGIC, 4) || get32(wbin + 4) != MODEL_VERSION ||
        get64(wbin + 8) != dim || get32(wbin + 16) != nout || get32(wbin + 20) != 0 ||
        get64(wbin + 24) != dim * nout) {
        rc = bad(err, src,
                 "weights.bin header does not match the manifest (magic, version or "
                 "shape)%s",
                 "");
        goto out;
    }
    uint32_t have = crc_of(wbin, wlen - 4);
    if (have != get32(wbin + wlen - 4) || have != crc) {
        rc = bad(err, src, "weights.bin checksum mismatch (damaged file)");
        goto out;
    }
    rc = model_new(pred, score, dim, (uint32_t)nout, loss, &m, err);
    if (rc != LL_OK)
        goto out;
    const unsigned char *q = wbin + MODEL_WEIGHTS_HDR;
    size_t nw = (size_t)dim * nout;
    for (size_t i = 0; i < nw; i++, q += 4)
        m->w[i] = getf(q);
    for (uint32_t c = 0; c < nout; c++, q += 4)
        m->b[c] = getf(q);
    for (size_t i = 0; i < nw + nout; i++) {
        float f = i < nw ? m->w[i] : m->b[i - nw];
        if (!isfinite(f)) {
            rc = bad(err, src, "weights.bin holds a non-finite value at weight %lld", (long long)i);
            goto out;
        }
    }
    m->threshold = (float)json_number_value(th);
    json_t *hp = json_object_get(j, "hyperparameters");
    json_t *met = json_object_get(j, "metrics");
    if ((hp && !json_is_object(hp)) || (met && !json_is_object(met))) {
        rc = bad(err, src, "hyperparameters/metrics must be JSON objects");
        goto out;
    }
    char *hs = hp ? json_dumps(hp, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) : NULL;
    char *ms = met ? json_dumps(met, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17)) : NULL;
    rc = model_set_info(m, hs, ms, err);
    free(hs);
    free(ms);
out:
    json_decref(j);
    if (rc != LL_OK) {
        ll_model_free(m);
        m = NULL;
    }
    *out = m;
    return rc;
}

/* ---- files ---- */

/* linlearn's own two files as archive members (mem_free both data pointers). */
static ll_code own_members(const ll_model *m, arch_member mem[2], ll_err *err)
{
    char *man = NULL;
    unsigned char *wb = NULL;
    size_t ml = 0, wl = 0;
    ll_code rc = model_serialize(m, &man, &ml, &wb, &wl, err);
    mem[0] = (arch_member){(char *)"manifest.json", (unsigned char *)man, ml};
    mem[1] = (arch_member){(char *)"weights.bin", wb, wl};
    return rc;
}

ll_code model_write(const ll_model *m, ll_writer *w, int sagemaker, ll_err *err)
{
    arch_member mem[2];
    ll_code rc = own_members(m, mem, err);
    if (rc == LL_OK)
        rc = sagemaker ? sm_model_write(m, w, mem, 2, err) : arch_write_targz(w, mem, 2, 0, err);
    mem_free(mem[0].data);
    mem_free(mem[1].data);
    return rc;
}

ll_code model_save_as(const ll_model *m, const char *dir, int sagemaker, ll_err *err)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/model.tar.gz", dir) >= (int)sizeof path)
        return err_set(err, LL_E_ARG, "model folder name is too long");
    /* a model that ll_model_load would refuse is never written (docs/RELIABILITY.md) */
    size_t nw = (size_t)m->feature_dim * m->n_out;
    for (size_t i = 0; i < nw + m->n_out; i++)
        if (!isfinite(i < nw ? m->w[i] : m->b[i - nw]))
            return err_set(err, LL_E_ARG,
                           "not writing %s: %s %zu is not finite (training diverged: lower "
                           "learning_rate, or normalize the data)",
                           path, i < nw ? "weight" : "bias", i < nw ? i : i - nw);
    if (!isfinite(m->threshold))
        return err_set(err, LL_E_ARG, "not writing %s: the threshold is not finite", path);
    /* the folder and its missing parents, as a newcomer's --model-dir out/model expects */
    if (mkdir(dir, 0755) != 0 && errno != EEXIST && wr_mkdirs(dir, NULL) != LL_OK)
        return err_sys(err, dir, "cannot create the model folder");
    ll_writer *w = NULL;
    ll_code rc = ll_writer_open(path, &w, err);
    if (rc != LL_OK)
        return rc;
    rc = model_write(m, w, sagemaker, err);
    if (rc != LL_OK) {
        ll_writer_abort(w);
        return rc;
    }
    return ll_writer_commit(w, err);
}

ll_code model_save(const ll_model *m, const char *dir, ll_err *err)
{
    return model_save_as(m, dir, 0, err);
}

/* Reads a whole file (at most cap bytes) through the reader layer. */
static ll_code slurp(const char *path, uint64_t cap, unsigned char **out, size_t *len, ll_err *err)
{
    *out = NULL;
    *len = 0;
    ll_reader *r = NULL;
    ll_code rc = ll_reader_open(path, &r, err);
    if (rc != LL_OK)
        return rc;
    size_t n = 0, c = 1 << 16;
    unsigned char *p = mem_alloc(c);
    if (!p) {
        ll_reader_free(r);
        return err_set(err, LL_E_NOMEM, "out of memory reading %s", path);
    }
    for (;;) {
        if (n == c) {
            if (c >= cap) {
                mem_free(p);
                ll_reader_free(r);
                err_set(err, LL_E_TOOBIG, "file is larger than %llu bytes",
                        (unsigned long long)cap);
                err_src(err, path);
                return LL_E_TOOBIG;
            }
            size_t nc = c * 2 > cap ? (size_t)cap + 1 : c * 2;
            unsigned char *q = mem_realloc(p, nc);
            if (!q) {
                mem_free(p);
                ll_reader_free(r);
                return err_set(err, LL_E_NOMEM, "out of memory reading %s", path);
            }
            p = q;
            c = nc;
        }
        size_t k = 0;
        int eof = 0;
        rc = ll_reader_read(r, p + n, c - n, &k, &eof, err);
        if (rc != LL_OK) {
            mem_free(p);
            ll_reader_free(r);
            return rc;
        }
        if (eof)
            break;
        n += k;
    }
    ll_reader_free(r);
    *out = p;
    *len = n;
    return LL_OK;
}

#define MAX_ARCHIVE ((uint64_t)MAX_WEIGHTS + (3u << 20) + MAX_MANIFEST)

/* A model from the members of an archive, whichever kind it is: linlearn's own (manifest.json
 * and weights.bin; preferred when present beside model_algo-1), SageMaker's model.tar.gz
 * (model_algo-1) or a bare model_algo-1 zip. */
static ll_code from_members(const char *path, const arch_list *l, ll_model **out, ll_err *err)
{
    const arch_member *man = arch_find(l, "manifest.json");
    const arch_member *wb = arch_find(l, "weights.bin");
    if (sm_model_is(l))
        return sm_model_parse(path, l, out, err);
    if (man && wb)
        return model_parse(path, (const char *)man->data, man->len, wb->data, wb->len, out, err);
    const arch_member *inner = arch_find(l, "model_algo-1");
    if (inner) {
        char src[4200];
        snprintf(src, sizeof src, "%s/model_algo-1", path);
        arch_list z;
        ll_code rc = arch_read_mem(inner->data, inner->len, src, MAX_ARCHIVE, &z, err);
        if (rc != LL_OK)
            return rc;
        if (!sm_model_is(&z))
            rc = bad(err, src,
                     "model_algo-1 has no mx-mod-0000.params (not a Linear Learner "
                     "model)");
        else
            rc = sm_model_parse(src, &z, out, err);
        arch_list_free(&z);
        return rc;
    }
    return bad(err, path,
               "the archive has neither linlearn's manifest.json and weights.bin nor SageMaker's "
               "model_algo-1 (found %zu other files)",
               l->n);
}

static ll_code load_archive(const char *path, ll_model **out, ll_err *err)
{
    arch_list l;
    ll_code rc = arch_read_file(path, MAX_ARCHIVE, &l, err);
    if (rc != LL_OK)
        return rc;
    rc = from_members(path, &l, out, err);
    arch_list_free(&l);
    return rc;
}

/* A folder holding model_algo-1's members unpacked (mx-mod-0000.params and the JSON files). */
static ll_code load_unzipped(const char *path, ll_model **out, ll_err *err)
{
    static const char *const names[4] = {"manifest.json", "additional-params.json",
                                         "mx-mod-symbol.json", "mx-mod-0000.params"};
    arch_member mem[4];
    size_t n = 0;
    ll_code rc = LL_OK;
    for (int i = 0; i < 4 && rc == LL_OK; i++) {
        char p[4200];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", path, names[i]);
        if (stat(p, &st) != 0)
            continue; /* sm_model_parse says which one it needs */
        mem[n] = (arch_member){(char *)names[i], NULL, 0};
        rc = slurp(p, i == 3 ? MAX_WEIGHTS + (1u << 20) : MAX_MANIFEST, &mem[n].data, &mem[n].len,
                   err);
        if (rc == LL_OK)
            n++;
    }
    if (rc == LL_OK) {
        arch_list l = {mem, n, 0};
        rc = sm_model_parse(path, &l, out, err);
    }
    for (size_t i = 0; i < n; i++)
        mem_free(mem[i].data);
    return rc;
}

ll_code ll_model_load(const char *path, ll_model **out, ll_err *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return err_sys(err, path, "cannot open the model");
    if (!S_ISDIR(st.st_mode))
        return load_archive(path, out, err);
    char mp[4096], wp[4096];
    snprintf(mp, sizeof mp, "%s/manifest.json", path);
    snprintf(wp, sizeof wp, "%s/weights.bin", path);
    if (stat(mp, &st) != 0 || stat(wp, &st) != 0) {
        static const char *const inside[] = {"model.tar.gz", "model_algo-1"};
        for (int i = 0; i < 2; i++) {
            snprintf(mp, sizeof mp, "%s/%s", path, inside[i]);
            if (stat(mp, &st) == 0)
                return load_archive(mp, out, err);
        }
        snprintf(mp, sizeof mp, "%s/mx-mod-0000.params", path);
        if (stat(mp, &st) == 0)
            return load_unzipped(path, out, err);
        err_set(err, LL_E_ARG,
                "not a model folder: it has neither manifest.json and weights.bin, nor "
                "model.tar.gz, nor model_algo-1, nor model_algo-1's files unpacked");
        err_src(err, path);
        return LL_E_ARG;
    }
    unsigned char *man = NULL, *wb = NULL;
    size_t ml = 0, wl = 0;
    ll_code rc = slurp(mp, MAX_MANIFEST, &man, &ml, err);
    if (rc == LL_OK)
        rc = slurp(wp, MAX_WEIGHTS + 64, &wb, &wl, err);
    if (rc == LL_OK)
        rc = model_parse(path, (const char *)man, ml, wb, wl, out, err);
    mem_free(man);
    mem_free(wb);
    return rc;
}

const float *ll_model_weights(const ll_model *m)
{
    return m->w;
}

const float *ll_model_bias(const ll_model *m)
{
    return m->b;
}

const char *ll_model_loss(const ll_model *m)
{
    return m->loss;
}

ll_code ll_model_export(const ll_model *m, const char *dst, ll_model_format fmt, ll_err *err)
{
    if (fmt != LL_MODEL_LINLEARN && fmt != LL_MODEL_SAGEMAKER && fmt != LL_MODEL_ONNX)
        return err_set(err, LL_E_ARG, "unknown model format %d", (int)fmt);
    ll_writer *w = NULL;
    ll_code rc = ll_writer_open(dst, &w, err);
    if (rc != LL_OK)
        return rc;
    if (fmt == LL_MODEL_ONNX)
        rc = onnx_write(m, w, err);
    else if (fmt == LL_MODEL_SAGEMAKER)
        rc = sm_model_write(m, w, NULL, 0, err);
    else
        rc = model_write(m, w, 0, err);
    if (rc != LL_OK) {
        ll_writer_abort(w);
        return rc;
    }
    return ll_writer_commit(w, err);
}
