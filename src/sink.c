/* SPDX-License-Identifier: Apache-2.0 */
/* sink.c - encoders from batches to RecordIO-protobuf (SDK byte layout), CSV, LIBSVM and JSON
 * Lines. Each keeps reusable scratch buffers, so writing allocates nothing per row. */
#include "sink.h"
#include "err.h"
#include "mem.h"
#include "pb.h"
#include "rio.h"
#include <math.h>
#include <string.h>

struct ll_sink {
    ll_writer *w;
    ll_sink_opts o;
    uint8_t *buf; /* encode scratch */
    size_t cap;
    float *dense; /* densified row */
    size_t dense_cap;
    uint64_t *keys;
    float *svals;
    size_t keys_cap;
};

void ll_sink_opts_init(ll_sink_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = LL_FMT_RECORDIO;
    o->delimiter = ',';
    o->index_base = 1;
}

ll_code ll_sink_new(ll_writer *w, const ll_sink_opts *o, ll_sink **out, ll_err *err)
{
    *out = NULL;
    if (o->format == LL_FMT_AUTO)
        return err_set(err, LL_E_ARG, "no output format given");
    ll_sink *s = mem_calloc(1, sizeof *s);
    if (!s)
        return err_set(err, LL_E_NOMEM, "out of memory");
    s->w = w;
    s->o = *o;
    if (!s->o.delimiter)
        s->o.delimiter = ',';
    *out = s;
    return LL_OK;
}

void ll_sink_free(ll_sink *s)
{
    if (!s)
        return;
    mem_free(s->buf);
    mem_free(s->dense);
    mem_free(s->keys);
    mem_free(s->svals);
    mem_free(s);
}

static ll_code need(ll_sink *s, size_t n, ll_err *err)
{
    if (n <= s->cap)
        return LL_OK;
    size_t c = s->cap ? s->cap : 4096;
    while (c < n)
        c *= 2;
    uint8_t *b = mem_realloc(s->buf, c);
    if (!b)
        return err_set(err, LL_E_NOMEM, "out of memory encoding a row");
    s->buf = b;
    s->cap = c;
    return LL_OK;
}

static ll_code need_dense(ll_sink *s, uint64_t n, ll_err *err)
{
    if (n > ((uint64_t)1 << 31))
        return err_set(err, LL_E_TOOBIG,
                       "a row of dimension %llu is too wide to write densely; use sparse output",
                       (unsigned long long)n);
    if (n <= s->dense_cap)
        return LL_OK;
    float *d = mem_realloc_array(s->dense, (size_t)n, sizeof *d);
    if (!d)
        return err_set(err, LL_E_NOMEM, "out of memory");
    s->dense = d;
    s->dense_cap = (size_t)n;
    return LL_OK;
}

static ll_code need_keys(ll_sink *s, size_t n, ll_err *err)
{
    if (n <= s->keys_cap)
        return LL_OK;
    uint64_t *k = mem_realloc_array(s->keys, n, sizeof *k);
    if (k)
        s->keys = k;
    float *v = mem_realloc_array(s->svals, n, sizeof *v);
    if (v)
        s->svals = v;
    if (!k || !v)
        return err_set(err, LL_E_NOMEM, "out of memory");
    s->keys_cap = n;
    return LL_OK;
}

/* The output width of row i when written densely. */
static uint64_t out_dim(const ll_sink *s, const ll_batch *b, size_t i)
{
    return s->o.feature_dim ? s->o.feature_dim : b->dim[i];
}

/* Row i as a dense vector in s->dense (or directly in the batch when already dense). */
static ll_code densify(ll_sink *s, const ll_batch *b, size_t i, const float **v, uint64_t *n,
                       ll_err *err)
{
    uint64_t d = out_dim(s, b, i);
    size_t o = b->off[i], k = b->off[i + 1] - o;
    if (!b->sparse[i] && d == k) {
        *v = b->val + o;
        *n = k;
        return LL_OK;
    }
    ll_code rc = need_dense(s, d, err);
    if (rc != LL_OK)
        return rc;
    memset(s->dense, 0, (size_t)d * sizeof *s->dense);
    for (size_t j = 0; j < k; j++) {
        uint64_t c = b->sparse[i] ? b->idx[o + j] : j;
        if (c >= d)
            return err_set(err, LL_E_ARG,
                           "row %zu has a value in column %llu, beyond --feature-dim %llu", i,
                           (unsigned long long)c, (unsigned long long)d);
        s->dense[c] += b->val[o + j];
    }
    *v = s->dense;
    *n = d;
    return LL_OK;
}

/* Row i as (keys, values): the stored entries of a sparse row, the non-zeros of a dense one. */
static ll_code sparsify(ll_sink *s, const ll_batch *b, size_t i, size_t *nnz, ll_err *err)
{
    size_t o = b->off[i], k = b->off[i + 1] - o;
    ll_code rc = need_keys(s, k, err);
    if (rc != LL_OK)
        return rc;
    size_t n = 0;
    uint64_t d = out_dim(s, b, i);
    for (size_t j = 0; j < k; j++) {
        float v = b->val[o + j];
        uint64_t c = b->sparse[i] ? b->idx[o + j] : j;
        if (!b->sparse[i] && v == 0.0f && !signbit(v))
            continue;
        if (c >= d)
            return err_set(err, LL_E_ARG,
                           "row %zu has a value in column %llu, beyond --feature-dim %llu", i,
                           (unsigned long long)c, (unsigned long long)d);
        s->keys[n] = c;
        s->svals[n] = v;
        n++;
    }
    *nnz = n;
    return LL_OK;
}

static int want_sparse(const ll_sink *s, const ll_batch *b, size_t i)
{
    if (s->o.layout == LL_LAYOUT_SPARSE)
        return 1;
    if (s->o.layout == LL_LAYOUT_DENSE)
        return 0;
    return b->sparse[i];
}

static ll_code write_recordio(ll_sink *s, const ll_batch *b, size_t i, ll_err *err)
{
    pb_entry_in fe, le;
    memset(&fe, 0, sizeof fe);
    memset(&le, 0, sizeof le);
    fe.name = "values";
    fe.t.dtype = PB_F32;
    uint64_t shape;
    ll_code rc;
    if (want_sparse(s, b, i)) {
        size_t nnz;
        if ((rc = sparsify(s, b, i, &nnz, err)) != LL_OK)
            return rc;
        shape = out_dim(s, b, i);
        fe.t.values = s->svals;
        fe.t.n_values = nnz;
        fe.t.keys = s->keys;
        fe.t.n_keys = nnz;
        fe.t.shape = &shape;
        fe.t.n_shape = 1;
    } else {
        const float *v;
        uint64_t n;
        if ((rc = densify(s, b, i, &v, &n, err)) != LL_OK)
            return rc;
        fe.t.values = v;
        fe.t.n_values = (size_t)n;
    }
    /* a row of dimension 0 (a label-only Record read by convert) keeps having no features */
    pb_record_in r = {&fe, b->dim[i] == 0 && !b->sparse[i] ? 0 : 1, NULL, 0, NULL, NULL, NULL};
    size_t nl = b->loff[i + 1] - b->loff[i];
    if (nl && !s->o.no_label) {
        le.name = "values";
        le.t.dtype = PB_F32;
        le.t.values = b->label + b->loff[i];
        le.t.n_values = nl;
        r.lab = &le;
        r.n_lab = 1;
    }
    size_t sz = pb_encoded_size(&r);
    if (sz > RIO_MAX_LEN)
        return err_set(err, LL_E_TOOBIG, "row %zu encodes to %zu bytes, over RecordIO's limit", i,
                       sz);
    if ((rc = need(s, rio_frame_size(sz), err)) != LL_OK)
        return rc;
    /* encode straight after the 8-byte header slot, then frame in place */
    size_t n = pb_encode(&r, s->buf + 8);
    uint8_t *h = s->buf;
    uint32_t magic = RIO_MAGIC, lrec = (uint32_t)n;
    for (int k = 0; k < 4; k++) {
        h[k] = (uint8_t)(magic >> (8 * k));
        h[4 + k] = (uint8_t)(lrec >> (8 * k));
    }
    size_t pad = (4 - n % 4) % 4;
    memset(s->buf + 8 + n, 0, pad);
    return ll_writer_write(s->w, s->buf, 8 + n + pad, err);
}

/* Appends a float in the shortest round-trip form. */
static inline size_t put_f32(char *o, float v)
{
    return (size_t)ll_f32_to_str(v, o);
}

/* JSON numbers: Python's spelling (1.0, NaN, Infinity), so integral values keep a ".0". */
size_t sink_json_f32(char *o, float v)
{
    if (isnan(v)) {
        memcpy(o, "NaN", 3);
        return 3;
    }
    if (isinf(v)) {
        if (v < 0) {
            memcpy(o, "-Infinity", 9);
            return 9;
        }
        memcpy(o, "Infinity", 8);
        return 8;
    }
    size_t n = put_f32(o, v);
    if (!memchr(o, '.', n) && !memchr(o, 'e', n)) {
        o[n++] = '.';
        o[n++] = '0';
    }
    return n;
}

static size_t put_u64(char *o, uint64_t v)
{
    char t[24];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t k = 0; k < n; k++)
        o[k] = t[n - 1 - k];
    return n;
}

static ll_code write_csv(ll_sink *s, const ll_batch *b, size_t i, ll_err *err)
{
    const float *v;
    uint64_t n;
    ll_code rc = densify(s, b, i, &v, &n, err);
    if (rc != LL_OK)
        return rc;
    size_t nl = s->o.no_label ? 0 : b->loff[i + 1] - b->loff[i];
    if ((rc = need(s, (size_t)(n + nl) * 17 + 2, err)) != LL_OK)
        return rc;
    char *o = (char *)s->buf, *p = o;
    for (size_t k = 0; k < nl; k++) {
        p += put_f32(p, b->label[b->loff[i] + k]);
        *p++ = s->o.delimiter;
    }
    for (uint64_t k = 0; k < n; k++) {
        p += put_f32(p, v[k]);
        *p++ = s->o.delimiter;
    }
    if (p > o && (nl || n))
        p--;
    *p++ = '\n';
    return ll_writer_write(s->w, o, (size_t)(p - o), err);
}

static ll_code write_libsvm(ll_sink *s, const ll_batch *b, size_t i, ll_err *err)
{
    size_t nnz;
    ll_code rc = sparsify(s, b, i, &nnz, err);
    if (rc != LL_OK)
        return rc;
    size_t nl = s->o.no_label ? 0 : b->loff[i + 1] - b->loff[i];
    if ((rc = need(s, nnz * 40 + 32, err)) != LL_OK)
        return rc;
    char *o = (char *)s->buf, *p = o;
    if (nl)
        p += put_f32(p, b->label[b->loff[i]]);
    else
        *p++ = '0';
    for (size_t k = 0; k < nnz; k++) {
        *p++ = ' ';
        p += put_u64(p, s->keys[k] + (uint64_t)s->o.index_base);
        *p++ = ':';
        p += put_f32(p, s->svals[k]);
    }
    *p++ = '\n';
    return ll_writer_write(s->w, o, (size_t)(p - o), err);
}

static ll_code write_jsonl(ll_sink *s, const ll_batch *b, size_t i, ll_err *err)
{
    size_t nl = s->o.no_label ? 0 : b->loff[i + 1] - b->loff[i];
    ll_code rc;
    int sparse = want_sparse(s, b, i);
    const float *v = NULL;
    uint64_t n = 0;
    size_t nnz = 0;
    if (sparse)
        rc = sparsify(s, b, i, &nnz, err);
    else
        rc = densify(s, b, i, &v, &n, err);
    if (rc != LL_OK)
        return rc;
    if ((rc = need(s, (size_t)(n + nnz * 2 + nl) * 24 + 96, err)) != LL_OK)
        return rc;
    char *o = (char *)s->buf, *p = o;
    *p++ = '{';
    if (nl) {
        memcpy(p, "\"label\": ", 9);
        p += 9;
        if (nl > 1)
            *p++ = '[';
        for (size_t k = 0; k < nl; k++) {
            if (k) {
                *p++ = ',';
                *p++ = ' ';
            }
            p += sink_json_f32(p, b->label[b->loff[i] + k]);
        }
        if (nl > 1)
            *p++ = ']';
        *p++ = ',';
        *p++ = ' ';
    }
    memcpy(p, "\"features\": ", 12);
    p += 12;
    if (sparse) {
        memcpy(p, "{\"keys\": [", 10);
        p += 10;
        for (size_t k = 0; k < nnz; k++) {
            if (k) {
                *p++ = ',';
                *p++ = ' ';
            }
            p += put_u64(p, s->keys[k]);
        }
        memcpy(p, "], \"values\": [", 14);
        p += 14;
        for (size_t k = 0; k < nnz; k++) {
            if (k) {
                *p++ = ',';
                *p++ = ' ';
            }
            p += sink_json_f32(p, s->svals[k]);
        }
        memcpy(p, "], \"shape\": [", 13);
        p += 13;
        p += put_u64(p, out_dim(s, b, i));
        *p++ = ']';
        *p++ = '}';
    } else {
        *p++ = '[';
        for (uint64_t k = 0; k < n; k++) {
            if (k) {
                *p++ = ',';
                *p++ = ' ';
            }
            p += sink_json_f32(p, v[k]);
        }
        *p++ = ']';
    }
    *p++ = '}';
    *p++ = '\n';
    return ll_writer_write(s->w, o, (size_t)(p - o), err);
}

ll_code sink_write_rows(ll_sink *s, const ll_batch *b, size_t from, size_t to, ll_err *err)
{
    ll_code rc = LL_OK;
    for (size_t i = from; i < to && rc == LL_OK; i++) {
        switch (s->o.format) {
        case LL_FMT_RECORDIO:
            rc = write_recordio(s, b, i, err);
            break;
        case LL_FMT_CSV:
            rc = write_csv(s, b, i, err);
            break;
        case LL_FMT_LIBSVM:
            rc = write_libsvm(s, b, i, err);
            break;
        case LL_FMT_JSONL:
            rc = write_jsonl(s, b, i, err);
            break;
        default:
            rc = err_set(err, LL_E_ARG, "unsupported output format");
        }
    }
    return rc;
}

ll_code ll_sink_write(ll_sink *s, const ll_batch *b, ll_err *err)
{
    return sink_write_rows(s, b, 0, b->n_rows, err);
}
