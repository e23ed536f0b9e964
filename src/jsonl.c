/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonl.c - JSON Lines chunk parser: one object per line, as written by the JSONL sink and by
 * SageMaker clients:
 *   {"label": 1.0, "features": [0.5, 2.0]}                                    dense
 *   {"label": [1, 0], "features": {"keys": [3, 9], "values": [0.5, 2.0], "shape": [50000]}}
 *   {"features": [...]}   {"data": {"features": {"values": [...]}}}            inference shapes
 * A small hand-written scanner (no DOM): numbers go through ll_str_to_f32, so NaN, Infinity
 * and -Infinity are accepted bare and as strings. Unknown members are skipped.
 */
#include "batch.h"
#include "err.h"
#include "text.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    text_state *st;
    const char *buf, *ls, *p, *le; /* buffer, line start, cursor, line end */
    uint64_t line;
    ll_batch *b;
    size_t o, lo;   /* where this row's values and labels start */
    size_t nv, nk;  /* values and keys written */
    size_t nl;      /* labels written */
    int have_feat;  /* 1 dense, 2 sparse */
    int have_label; /* seen "label" */
    uint64_t shape; /* 0: not given */
    uint32_t maxk;  /* largest key + 1 */
    ll_err *err;
} jctx;

enum { DEST_VAL, DEST_KEY, DEST_LABEL, DEST_SHAPE };

static ll_code jerr(jctx *j, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ll_code jerr(jctx *j, const char *at, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(j->err, LL_E_PARSE, "%s", msg);
    return err_line(j->err, j->st->src, j->st->offset + (uint64_t)(at - j->buf), j->line,
                    (uint64_t)(at - j->ls) + 1);
}

static int shown(const jctx *j, const char *at)
{
    int k = 0;
    while (at + k < j->le && k < 30 && at[k] != ',' && at[k] != ']' && at[k] != '}')
        k++;
    return k;
}

static ll_code expected(jctx *j, const char *what)
{
    if (j->p >= j->le)
        return jerr(j, j->p, "expected %s, found the end of the line", what);
    return jerr(j, j->p, "expected %s, found '%.*s'", what, shown(j, j->p) ? shown(j, j->p) : 1,
                j->p);
}

static inline void ws(jctx *j)
{
    while (j->p < j->le && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

/* A string at p (on the quote): s and n get its raw bytes (escapes left as they are). */
static ll_code str(jctx *j, const char **s, size_t *n)
{
    if (j->p >= j->le || *j->p != '"')
        return expected(j, "a string");
    const char *q = j->p + 1;
    while (q < j->le && *q != '"') {
        if (*q == '\\')
            q++;
        q++;
    }
    if (q >= j->le)
        return jerr(j, j->p, "unterminated string");
    *s = j->p + 1;
    *n = (size_t)(q - j->p - 1);
    j->p = q + 1;
    return LL_OK;
}

static int key_is(const char *s, size_t n, const char *k)
{
    return n == strlen(k) && memcmp(s, k, n) == 0;
}

/* A number: bare (including NaN, Infinity, -Infinity) or a string holding one. */
static ll_code num(jctx *j, float *f)
{
    const char *at = j->p;
    if (at < j->le && *at == '"') {
        const char *s;
        size_t n;
        ll_code rc = str(j, &s, &n);
        if (rc != LL_OK)
            return rc;
        size_t k = n && (unsigned char)*s > ' ' ? ll_str_to_f32(s, n, f) : 0;
        if (k == 0 || k != n) {
            j->p = at;
            return expected(j, "a number");
        }
        return LL_OK;
    }
    size_t k = at < j->le && (unsigned char)*at > ' ' && *at != ',' && *at != ']'
                   ? ll_str_to_f32(at, (size_t)(j->le - at), f)
                   : 0;
    if (k == 0)
        return expected(j, "a number");
    j->p += k;
    if (j->p < j->le && *j->p != ',' && *j->p != ']' && *j->p != '}' && *j->p != ' ' &&
        *j->p != '\t' && *j->p != '\r') {
        j->p = at;
        return expected(j, "a number");
    }
    return LL_OK;
}

/* A non-negative integer (keys, shape). */
static ll_code uint_val(jctx *j, uint64_t *v)
{
    const char *at = j->p;
    uint64_t x = 0;
    while (j->p < j->le && (unsigned)(*j->p - '0') < 10u) {
        x = x * 10 + (uint64_t)(*j->p - '0');
        if (x > UINT32_MAX) {
            j->p = at;
            return jerr(j, at, "integer '%.*s' is too large", shown(j, at), at);
        }
        j->p++;
    }
    /* accept an integral float spelling such as 3.0 */
    if (j->p < j->le && *j->p == '.') {
        const char *q = j->p + 1;
        while (q < j->le && *q == '0')
            q++;
        j->p = q;
    }
    if (j->p == at || (j->p < j->le && *j->p != ',' && *j->p != ']' && *j->p != ' ' &&
                       *j->p != '\t' && *j->p != '\r')) {
        j->p = at;
        return expected(j, "a non-negative integer");
    }
    *v = x;
    return LL_OK;
}

/* Stores one element of an array into its destination. */
static ll_code put(jctx *j, int dest, size_t i)
{
    ll_batch *b = j->b;
    ll_code rc;
    if (dest == DEST_LABEL) {
        float f;
        if ((rc = num(j, &f)) != LL_OK)
            return rc;
        if ((rc = batch_reserve_labels(b, j->lo + i + 1, j->err)) != LL_OK)
            return rc;
        b->label[j->lo + i] = f;
        return LL_OK;
    }
    if (dest == DEST_SHAPE) {
        uint64_t v;
        if ((rc = uint_val(j, &v)) != LL_OK)
            return rc;
        j->shape = i == 0 ? v : j->shape * v;
        if (j->shape > UINT32_MAX + 1ull)
            return jerr(j, j->p, "the shape is too large");
        return LL_OK;
    }
    if ((rc = batch_reserve_vals(b, j->o + i + 1, j->err)) != LL_OK)
        return rc;
    if (dest == DEST_VAL)
        return num(j, &b->val[j->o + i]);
    uint64_t v;
    const char *at = j->p;
    if ((rc = uint_val(j, &v)) != LL_OK)
        return rc;
    if (v >= UINT32_MAX)
        return jerr(j, at, "key %llu is too large", (unsigned long long)v);
    b->idx[j->o + i] = (uint32_t)v;
    if (v + 1 > j->maxk)
        j->maxk = (uint32_t)(v + 1);
    return LL_OK;
}

/* '[' elem (',' elem)* ']' into dest; *n receives the count. */
static ll_code array(jctx *j, int dest, size_t *n)
{
    ws(j);
    if (j->p >= j->le || *j->p != '[')
        return expected(j, "'['");
    j->p++;
    ws(j);
    size_t i = 0;
    if (j->p < j->le && *j->p == ']') {
        j->p++;
        *n = 0;
        return LL_OK;
    }
    for (;;) {
        ws(j);
        ll_code rc = put(j, dest, i++);
        if (rc != LL_OK)
            return rc;
        ws(j);
        if (j->p < j->le && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->le && *j->p == ']') {
            j->p++;
            break;
        }
        return expected(j, "',' or ']'");
    }
    *n = i;
    return LL_OK;
}

/* Skips any JSON value. */
static ll_code skip_value(jctx *j)
{
    ws(j);
    if (j->p >= j->le)
        return expected(j, "a value");
    if (*j->p == '"') {
        const char *s;
        size_t n;
        return str(j, &s, &n);
    }
    if (*j->p == '[' || *j->p == '{') {
        int depth = 0;
        while (j->p < j->le) {
            char c = *j->p;
            if (c == '"') {
                const char *s;
                size_t n;
                ll_code rc = str(j, &s, &n);
                if (rc != LL_OK)
                    return rc;
                continue;
            }
            if (c == '[' || c == '{')
                depth++;
            else if (c == ']' || c == '}') {
                if (--depth == 0) {
                    j->p++;
                    return LL_OK;
                }
            }
            j->p++;
        }
        return jerr(j, j->p, "unterminated array or object");
    }
    const char *at = j->p;
    while (j->p < j->le && *j->p != ',' && *j->p != '}' && *j->p != ']' && *j->p != ' ' &&
           *j->p != '\t' && *j->p != '\r')
        j->p++;
    if (j->p == at)
        return expected(j, "a value");
    return LL_OK;
}

/* Iterates the members of an object: calls fn for each key, which consumes the value. */
typedef ll_code (*member_fn)(jctx *j, const char *k, size_t kn);

static ll_code object(jctx *j, member_fn fn)
{
    ws(j);
    if (j->p >= j->le || *j->p != '{')
        return expected(j, "'{'");
    j->p++;
    ws(j);
    if (j->p < j->le && *j->p == '}') {
        j->p++;
        return LL_OK;
    }
    for (;;) {
        ws(j);
        const char *k;
        size_t kn;
        ll_code rc = str(j, &k, &kn);
        if (rc != LL_OK)
            return rc;
        ws(j);
        if (j->p >= j->le || *j->p != ':')
            return expected(j, "':'");
        j->p++;
        ws(j);
        if ((rc = fn(j, k, kn)) != LL_OK)
            return rc;
        ws(j);
        if (j->p < j->le && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->le && *j->p == '}') {
            j->p++;
            return LL_OK;
        }
        return expected(j, "',' or '}'");
    }
}

static ll_code sparse_member(jctx *j, const char *k, size_t kn)
{
    const char *at = j->p;
    if (key_is(k, kn, "keys"))
        return array(j, DEST_KEY, &j->nk);
    if (key_is(k, kn, "values"))
        return array(j, DEST_VAL, &j->nv);
    if (key_is(k, kn, "shape")) {
        size_t n;
        ll_code rc = array(j, DEST_SHAPE, &n);
        if (rc == LL_OK && n == 0)
            return jerr(j, at, "expected a non-empty shape");
        return rc;
    }
    return skip_value(j);
}

static ll_code features(jctx *j)
{
    const char *at = j->p;
    if (j->have_feat)
        return jerr(j, at, "\"features\" given twice");
    if (j->p < j->le && *j->p == '[') {
        j->have_feat = 1;
        return array(j, DEST_VAL, &j->nv);
    }
    if (j->p >= j->le || *j->p != '{')
        return expected(j, "a list of numbers or an object with \"values\"");
    j->nk = (size_t)-1;
    ll_code rc = object(j, sparse_member);
    if (rc != LL_OK)
        return rc;
    if (j->nk == (size_t)-1) {
        j->nk = 0;
        j->have_feat = 1; /* {"values": [...]}: dense */
        return LL_OK;
    }
    j->have_feat = 2;
    if (j->nk != j->nv)
        return jerr(j, at, "\"keys\" has %zu entries but \"values\" has %zu", j->nk, j->nv);
    if (j->shape && j->maxk > j->shape) {
        return jerr(j, at, "key %u is outside the shape %llu", j->maxk - 1,
                    (unsigned long long)j->shape);
    }
    return LL_OK;
}

static ll_code data_member(jctx *j, const char *k, size_t kn)
{
    if (key_is(k, kn, "features"))
        return features(j);
    return skip_value(j);
}

static ll_code top_member(jctx *j, const char *k, size_t kn)
{
    if (key_is(k, kn, "features"))
        return features(j);
    if (key_is(k, kn, "data")) {
        if (j->p < j->le && *j->p == '{')
            return object(j, data_member);
        return expected(j, "an object");
    }
    if (key_is(k, kn, "label")) {
        if (j->have_label)
            return jerr(j, j->p, "\"label\" given twice");
        j->have_label = 1;
        if (j->p < j->le && *j->p == '[')
            return array(j, DEST_LABEL, &j->nl);
        if (j->p + 4 <= j->le && memcmp(j->p, "null", 4) == 0) {
            j->p += 4;
            return LL_OK;
        }
        j->nl = 1;
        return put(j, DEST_LABEL, 0);
    }
    return skip_value(j);
}

ll_code jsonl_parse(text_state *st, const char *buf, size_t len, int eof, size_t max_rows,
                    ll_batch *b, size_t *used, ll_err *err)
{
    *used = 0;
    const char *p = buf, *end = buf + len;
    uint64_t lines = 0;
    ll_code rc;
    while (b->n_rows < max_rows && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol && !eof)
            break;
        const char *le = eol ? eol : end;
        const char *next = eol ? eol + 1 : end;
        jctx j = {st, buf, p, p, le, st->line + lines, b, 0, 0, 0, 0, 0, 0, 0, 0, 0, err};
        ws(&j);
        if (j.p == le) {
            lines += eol != NULL;
            p = next;
            continue;
        }
        if ((rc = batch_reserve_rows(b, b->n_rows + 1, err)) != LL_OK)
            return rc;
        j.o = b->off[b->n_rows];
        j.lo = b->loff[b->n_rows];
        if ((rc = object(&j, top_member)) != LL_OK)
            return rc;
        ws(&j);
        if (j.p < le)
            return jerr(&j, j.p, "unexpected '%.*s' after the object", shown(&j, j.p), j.p);
        if (!j.have_feat) {
            err_set(err, LL_E_PARSE, "expected a \"features\" member in the object");
            return err_line(err, st->src, st->offset + (uint64_t)(p - buf), j.line, 0);
        }
        uint64_t dim = j.nv;
        if (j.have_feat == 2) {
            if (j.shape)
                dim = j.shape;
            else {
                if (j.maxk > st->max_dim)
                    st->max_dim = j.maxk;
                dim = st->max_dim;
            }
        }
        batch_commit_row(b, j.nv, dim, j.have_feat == 2, j.nl);
        if (st->o->finite &&
            batch_row_nonfinite(b, b->n_rows - 1, &(size_t){0}, &(int){0}, &(float){0})) {
            batch_nonfinite_error(b, b->n_rows - 1, err);
            return err_line(err, st->src, st->offset + (uint64_t)(p - buf), j.line, 0);
        }
        lines += eol != NULL;
        p = next;
    }
    *used = (size_t)(p - buf);
    st->offset += *used;
    st->line += lines;
    return LL_OK;
}
