/* SPDX-License-Identifier: Apache-2.0 */
/* json_req.c - the JSON and JSON Lines request parsers of json_req.h: one pass over the bytes,
 * values written straight into the batch's arrays, no tree and no allocation besides the
 * batch's own growth. */
#include "json_req.h"
#include "batch.h"
#include "err.h"
#include <stdio.h>
#include <string.h>

typedef struct jp {
    const char *beg, *p, *end;
    const char *src;
    uint64_t base; /* source offset of beg */
    uint64_t line; /* JSON Lines: line number for messages (0: not lines) */
    uint64_t inst; /* 0-based instance number for messages */
    ll_err *err;
} jp;

static ll_code fail(jp *j, const char *what)
{
    const char *found = j->p < j->end ? "" : "the end of the input";
    char got[16] = "";
    if (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p;
        if (c >= 0x20 && c < 0x7f)
            snprintf(got, sizeof got, "'%c'", c);
        else
            snprintf(got, sizeof got, "byte 0x%02x", c);
        found = got;
    }
    err_set(j->err, LL_E_PARSE, "instance %llu: expected %s, found %s", (unsigned long long)j->inst,
            what, found);
    uint64_t off = j->base + (uint64_t)(j->p - j->beg);
    if (j->line)
        return err_line(j->err, j->src, off, j->line, 0);
    return err_at(j->err, j->src, off);
}

static void ws(jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* Consumes c after optional whitespace; 0 if it is not there. */
static int eat(jp *j, char c)
{
    ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    return 0;
}

/* A string's raw bytes (escapes left as they are); the opening quote is next. */
static ll_code string(jp *j, const char **s, size_t *n)
{
    ws(j);
    if (j->p >= j->end || *j->p != '"')
        return fail(j, "a string");
    const char *q = ++j->p;
    while (j->p < j->end && *j->p != '"') {
        if ((unsigned char)*j->p < 0x20)
            return fail(j, "a closing quote");
        if (*j->p == '\\' && j->p + 1 < j->end)
            j->p++;
        j->p++;
    }
    if (j->p >= j->end)
        return fail(j, "a closing quote");
    *s = q;
    *n = (size_t)(j->p - q);
    j->p++;
    return LL_OK;
}

static int key_is(const char *k, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(k, lit, n) == 0;
}

/* Skips any value, nested or not, without recursion. */
static ll_code skip_value(jp *j)
{
    size_t depth = 0;
    ws(j);
    do {
        ws(j);
        if (j->p >= j->end)
            return fail(j, "a value");
        char c = *j->p;
        if (c == '{' || c == '[') {
            depth++;
            j->p++;
            continue;
        }
        if (c == '}' || c == ']') {
            if (depth == 0)
                return fail(j, "a value");
            depth--;
            j->p++;
        } else if (c == '"') {
            const char *s;
            size_t n;
            if (string(j, &s, &n) != LL_OK)
                return LL_E_PARSE;
        } else if (c == ',' || c == ':') {
            if (depth == 0)
                return fail(j, "a value");
            j->p++;
        } else {
            const char *q = j->p;
            while (j->p < j->end && !strchr(",:]} \t\r\n{[\"", *j->p))
                j->p++;
            if (j->p == q)
                return fail(j, "a value");
        }
    } while (depth > 0);
    return LL_OK;
}

static int num_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' ||
           (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static ll_code number_f32(jp *j, float *v)
{
    ws(j);
    const char *q = j->p;
    while (j->p < j->end && num_char(*j->p))
        j->p++;
    size_t n = (size_t)(j->p - q);
    if (n == 0 || n > 64) {
        j->p = q;
        return fail(j, "a number");
    }
    if (n == 3 && memcmp(q, "NaN", 3) == 0) {
        *v = __builtin_nanf("");
        return LL_OK;
    }
    if ((n == 8 && memcmp(q, "Infinity", 8) == 0) || (n == 9 && memcmp(q, "-Infinity", 9) == 0)) {
        *v = q[0] == '-' ? -__builtin_inff() : __builtin_inff();
        return LL_OK;
    }
    /* letters are only part of exponents from here on */
    for (size_t k = 0; k < n; k++)
        if (((q[k] >= 'a' && q[k] <= 'z') || (q[k] >= 'A' && q[k] <= 'Z')) && q[k] != 'e' &&
            q[k] != 'E') {
            j->p = q;
            return fail(j, "a number");
        }
    if (ll_str_to_f32(q, n, v) != n) {
        j->p = q;
        return fail(j, "a number");
    }
    return LL_OK;
}

/* A non-negative integer (a trailing ".0" is allowed, as numpy may write it). */
static ll_code number_u64(jp *j, uint64_t *v)
{
    ws(j);
    const char *q = j->p;
    uint64_t x = 0;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        unsigned d = (unsigned)(*j->p - '0');
        if (x > (UINT64_MAX - d) / 10) {
            j->p = q;
            return fail(j, "an integer below 2^64");
        }
        x = x * 10 + d;
        j->p++;
    }
    if (j->p == q) {
        return fail(j, "a non-negative integer");
    }
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        while (j->p < j->end && *j->p == '0')
            j->p++;
    }
    if (j->p < j->end && num_char(*j->p)) {
        j->p = q;
        return fail(j, "a non-negative integer");
    }
    *v = x;
    return LL_OK;
}

/* The row being built: values at b->val + off, keys at b->idx + off. */
typedef struct row {
    size_t off, n_vals, n_keys, n_shape;
    uint64_t dim;
    int has_vals;
} row;

/* [v, ...] into the batch's values (keys = 0) or keys (keys = 1). */
static ll_code array_into(jp *j, ll_batch *b, row *r, int keys)
{
    if (!eat(j, '['))
        return fail(j, "'['");
    size_t n = 0;
    if (!eat(j, ']')) {
        for (;;) {
            ll_code rc = batch_reserve_vals(b, r->off + n + 1, j->err);
            if (rc != LL_OK)
                return rc;
            if (keys) {
                uint64_t k;
                if (number_u64(j, &k) != LL_OK)
                    return LL_E_PARSE;
                if (k > UINT32_MAX)
                    return fail(j, "a key below 2^32");
                b->idx[r->off + n] = (uint32_t)k;
            } else if (number_f32(j, &b->val[r->off + n]) != LL_OK) {
                return LL_E_PARSE;
            }
            n++;
            if (eat(j, ','))
                continue;
            if (eat(j, ']'))
                break;
            return fail(j, "',' or ']'");
        }
    }
    if (keys)
        r->n_keys = n;
    else {
        r->n_vals = n;
        r->has_vals = 1;
    }
    return LL_OK;
}

static ll_code shape(jp *j, row *r)
{
    if (!eat(j, '['))
        return fail(j, "'[' (the shape)");
    uint64_t prod = 1;
    r->n_shape = 0;
    if (!eat(j, ']')) {
        for (;;) {
            uint64_t d;
            if (number_u64(j, &d) != LL_OK)
                return LL_E_PARSE;
            if (d && prod > UINT64_MAX / d)
                return fail(j, "a shape whose product fits in 64 bits");
            prod *= d;
            r->n_shape++;
            if (eat(j, ','))
                continue;
            if (eat(j, ']'))
                break;
            return fail(j, "',' or ']'");
        }
    }
    r->dim = prod;
    return LL_OK;
}

/* FEATURES: a list, or an object with values (and keys and shape). */
static ll_code features(jp *j, ll_batch *b, row *r)
{
    ws(j);
    r->n_vals = r->n_keys = r->n_shape = 0;
    r->has_vals = 0;
    r->dim = 0;
    if (j->p < j->end && *j->p == '[') {
        ll_code rc = array_into(j, b, r, 0);
        r->dim = r->n_vals;
        return rc;
    }
    if (!eat(j, '{'))
        return fail(j, "a list of numbers or an object with \"values\"");
    int has_keys = 0;
    if (!eat(j, '}')) {
        for (;;) {
            const char *k;
            size_t kn;
            if (string(j, &k, &kn) != LL_OK)
                return LL_E_PARSE;
            if (!eat(j, ':'))
                return fail(j, "':'");
            ll_code rc;
            if (key_is(k, kn, "values")) {
                rc = array_into(j, b, r, 0);
            } else if (key_is(k, kn, "keys")) {
                rc = array_into(j, b, r, 1);
                has_keys = 1;
            } else if (key_is(k, kn, "shape")) {
                rc = shape(j, r);
            } else {
                rc = skip_value(j);
            }
            if (rc != LL_OK)
                return rc;
            if (eat(j, ','))
                continue;
            if (eat(j, '}'))
                break;
            return fail(j, "',' or '}'");
        }
    }
    if (!r->has_vals)
        return fail(j, "\"values\" in the features (before this point)");
    if (has_keys) {
        if (r->n_keys != r->n_vals) {
            err_set(j->err, LL_E_PARSE, "instance %llu: %zu keys but %zu values",
                    (unsigned long long)j->inst, r->n_keys, r->n_vals);
            return err_at(j->err, j->src, j->base + (uint64_t)(j->p - j->beg));
        }
        if (r->n_shape == 0) {
            err_set(j->err, LL_E_PARSE,
                    "instance %llu: sparse features (\"keys\") need a \"shape\"",
                    (unsigned long long)j->inst);
            return err_at(j->err, j->src, j->base + (uint64_t)(j->p - j->beg));
        }
        for (size_t i = 0; i < r->n_keys; i++)
            if (b->idx[r->off + i] >= r->dim) {
                err_set(j->err, LL_E_PARSE, "instance %llu: key %u is outside the shape %llu",
                        (unsigned long long)j->inst, b->idx[r->off + i],
                        (unsigned long long)r->dim);
                return err_at(j->err, j->src, j->base + (uint64_t)(j->p - j->beg));
            }
        r->n_keys = 1; /* marks the row sparse */
    } else {
        if (r->n_shape && r->dim != r->n_vals) {
            err_set(j->err, LL_E_PARSE, "instance %llu: %zu values but the shape says %llu",
                    (unsigned long long)j->inst, r->n_vals, (unsigned long long)r->dim);
            return err_at(j->err, j->src, j->base + (uint64_t)(j->p - j->beg));
        }
        r->dim = r->n_vals;
        r->n_keys = 0;
    }
    return LL_OK;
}

/* INSTANCE -> one row appended to b. */
static ll_code instance(jp *j, ll_batch *b)
{
    ll_code rc = batch_reserve_rows(b, b->n_rows + 1, j->err);
    if (rc != LL_OK)
        return rc;
    row r;
    memset(&r, 0, sizeof r);
    r.off = b->off[b->n_rows];
    int found = 0;
    ws(j);
    if (j->p < j->end && *j->p == '[') {
        rc = array_into(j, b, &r, 0);
        if (rc != LL_OK)
            return rc;
        r.dim = r.n_vals;
        found = 1;
    } else {
        if (!eat(j, '{'))
            return fail(j, "an instance (an object with \"features\" or a list)");
        if (!eat(j, '}')) {
            for (;;) {
                const char *k;
                size_t kn;
                if (string(j, &k, &kn) != LL_OK)
                    return LL_E_PARSE;
                if (!eat(j, ':'))
                    return fail(j, "':'");
                if (key_is(k, kn, "features")) {
                    rc = features(j, b, &r);
                    found = 1;
                } else if (key_is(k, kn, "data")) {
                    if (!eat(j, '{'))
                        return fail(j, "an object under \"data\"");
                    if (!eat(j, '}')) {
                        for (;;) {
                            if (string(j, &k, &kn) != LL_OK)
                                return LL_E_PARSE;
                            if (!eat(j, ':'))
                                return fail(j, "':'");
                            if (key_is(k, kn, "features")) {
                                rc = features(j, b, &r);
                                found = 1;
                            } else {
                                rc = skip_value(j);
                            }
                            if (rc != LL_OK)
                                return rc;
                            if (eat(j, ','))
                                continue;
                            if (eat(j, '}'))
                                break;
                            return fail(j, "',' or '}'");
                        }
                    }
                    rc = LL_OK;
                } else {
                    rc = skip_value(j);
                }
                if (rc != LL_OK)
                    return rc;
                if (eat(j, ','))
                    continue;
                if (eat(j, '}'))
                    break;
                return fail(j, "',' or '}'");
            }
        }
    }
    if (!found)
        return fail(j, "\"features\" in the instance (before this point)");
    batch_commit_row(b, r.n_vals, r.dim, r.n_keys != 0, 0);
    j->inst++;
    return LL_OK;
}

ll_code json_req_parse(const char *p, size_t len, const char *src, ll_batch *b, ll_err *err)
{
    ll_batch_clear(b);
    jp j = {p, p, p + len, src ? src : "request", 0, 0, 0, err};
    ll_code rc = batch_reserve_rows(b, 1, err);
    if (rc != LL_OK)
        return rc;
    if (!eat(&j, '{'))
        return fail(&j, "'{' (a body of the form {\"instances\": [...]})");
    int found = 0;
    if (!eat(&j, '}')) {
        for (;;) {
            const char *k;
            size_t kn;
            if (string(&j, &k, &kn) != LL_OK)
                return LL_E_PARSE;
            if (!eat(&j, ':'))
                return fail(&j, "':'");
            if (key_is(k, kn, "instances")) {
                if (!eat(&j, '['))
                    return fail(&j, "'[' (the list of instances)");
                ll_batch_clear(b);
                j.inst = 0;
                if (!eat(&j, ']')) {
                    for (;;) {
                        rc = instance(&j, b);
                        if (rc != LL_OK)
                            return rc;
                        if (eat(&j, ','))
                            continue;
                        if (eat(&j, ']'))
                            break;
                        return fail(&j, "',' or ']' after an instance");
                    }
                }
                found = 1;
            } else if (skip_value(&j) != LL_OK) {
                return LL_E_PARSE;
            }
            if (eat(&j, ','))
                continue;
            if (eat(&j, '}'))
                break;
            return fail(&j, "',' or '}'");
        }
    }
    ws(&j);
    if (j.p != j.end)
        return fail(&j, "the end of the body");
    if (!found)
        return fail(&j, "an \"instances\" key (before this point)");
    return LL_OK;
}

ll_code json_req_lines(const char *buf, size_t len, int eof, size_t max_rows, const char *src,
                       json_lines_pos *pos, ll_batch *b, size_t *used, ll_err *err)
{
    size_t at = 0;
    *used = 0;
    while (b->n_rows < max_rows && at < len) {
        const char *nl = memchr(buf + at, '\n', len - at);
        if (!nl && !eof)
            break;
        size_t end = nl ? (size_t)(nl - buf) : len;
        size_t next = nl ? end + 1 : len;
        jp j = {buf + at,    buf + at,  buf + end, src ? src : "request",
                pos->offset, pos->line, b->n_rows, err};
        ws(&j);
        if (j.p != j.end) {
            ll_code rc = instance(&j, b);
            if (rc != LL_OK)
                return rc;
            ws(&j);
            if (j.p != j.end)
                return fail(&j, "the end of the line after the instance");
        }
        pos->offset += next - at;
        pos->line++;
        at = next;
    }
    *used = at;
    return LL_OK;
}
