/* SPDX-License-Identifier: Apache-2.0 */
/* json_scan.c - the JSON scanner and the "features" grammar of json_scan.h. */
#include "json_scan.h"
#include "batch.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void json_scan_ws(json_scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

int json_scan_eat(json_scan *s, char c)
{
    json_scan_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

ll_code json_scan_failf(json_scan *s, const char *at, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return s->fail(s, at, msg);
}

ll_code json_scan_expected(json_scan *s, const char *what)
{
    const char *at = s->p;
    if (at >= s->end)
        return json_scan_failf(s, at, "expected %s, found %s", what, s->end_name);
    unsigned char c = (unsigned char)*at;
    if (c < 0x20 || c >= 0x7f)
        return json_scan_failf(s, at, "expected %s, found byte 0x%02x", what, c);
    int k = 1;
    while (at + k < s->end && k < 30 && !strchr(",]}", at[k]) && (unsigned char)at[k] >= 0x20)
        k++;
    return json_scan_failf(s, at, "expected %s, found '%.*s'", what, k, at);
}

ll_code json_scan_string(json_scan *s, const char **str, size_t *n)
{
    json_scan_ws(s);
    if (s->p >= s->end || *s->p != '"')
        return json_scan_expected(s, "a string");
    const char *open = s->p, *q = s->p + 1;
    while (q < s->end && *q != '"') {
        if ((unsigned char)*q < 0x20)
            break;
        if (*q == '\\' && q + 1 < s->end)
            q++;
        q++;
    }
    if (q >= s->end || *q != '"')
        return json_scan_failf(s, open, "unterminated string (expected a closing quote)");
    *str = open + 1;
    *n = (size_t)(q - open - 1);
    s->p = q + 1;
    return LL_OK;
}

int json_scan_key_is(const char *k, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(k, lit, n) == 0;
}

ll_code json_scan_skip(json_scan *s)
{
    size_t depth = 0;
    do {
        json_scan_ws(s);
        if (s->p >= s->end)
            return json_scan_expected(s, "a value");
        char c = *s->p;
        if (c == '{' || c == '[') {
            depth++;
            s->p++;
            continue;
        }
        if (c == '}' || c == ']') {
            if (depth == 0)
                return json_scan_expected(s, "a value");
            depth--;
            s->p++;
        } else if (c == '"') {
            const char *str;
            size_t n;
            ll_code rc = json_scan_string(s, &str, &n);
            if (rc != LL_OK)
                return rc;
        } else if (c == ',' || c == ':') {
            if (depth == 0)
                return json_scan_expected(s, "a value");
            s->p++;
        } else {
            const char *q = s->p;
            while (s->p < s->end && !strchr(",:]} \t\r\n{[\"", *s->p))
                s->p++;
            if (s->p == q)
                return json_scan_expected(s, "a value");
        }
    } while (depth > 0);
    return LL_OK;
}

static int num_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

/* q[0..n) as a whole number: 1 if it is one. */
static int number_text(const char *q, size_t n, float *v)
{
    if (n == 0 || n > 64)
        return 0;
    if (n == 3 && memcmp(q, "NaN", 3) == 0) {
        *v = __builtin_nanf("");
        return 1;
    }
    if ((n == 8 && memcmp(q, "Infinity", 8) == 0) || (n == 9 && memcmp(q, "-Infinity", 9) == 0)) {
        *v = q[0] == '-' ? -__builtin_inff() : __builtin_inff();
        return 1;
    }
    /* letters are only part of exponents from here on */
    for (size_t k = 0; k < n; k++)
        if (!num_char(q[k]) || (((q[k] >= 'a' && q[k] <= 'z') || (q[k] >= 'A' && q[k] <= 'Z')) &&
                                q[k] != 'e' && q[k] != 'E'))
            return 0;
    return ll_str_to_f32(q, n, v) == n;
}

ll_code json_scan_f32(json_scan *s, float *v, unsigned flags)
{
    json_scan_ws(s);
    const char *q = s->p;
    if ((flags & JSON_SCAN_QUOTED_NUMBERS) && q < s->end && *q == '"') {
        const char *str;
        size_t n;
        ll_code rc = json_scan_string(s, &str, &n);
        if (rc != LL_OK)
            return rc;
        if (!number_text(str, n, v)) {
            s->p = q;
            return json_scan_expected(s, "a number");
        }
        return LL_OK;
    }
    while (s->p < s->end && num_char(*s->p))
        s->p++;
    if (!number_text(q, (size_t)(s->p - q), v)) {
        s->p = q;
        return json_scan_expected(s, "a number");
    }
    return LL_OK;
}

ll_code json_scan_u64(json_scan *s, uint64_t *v)
{
    json_scan_ws(s);
    const char *q = s->p;
    uint64_t x = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        unsigned d = (unsigned)(*s->p - '0');
        if (x > (UINT64_MAX - d) / 10) {
            s->p = q;
            return json_scan_expected(s, "an integer below 2^64");
        }
        x = x * 10 + d;
        s->p++;
    }
    if (s->p == q)
        return json_scan_expected(s, "a non-negative integer");
    /* an integral float spelling such as 3.0, as numpy may write it */
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        while (s->p < s->end && *s->p == '0')
            s->p++;
    }
    if (s->p < s->end && num_char(*s->p)) {
        s->p = q;
        return json_scan_expected(s, "a non-negative integer");
    }
    *v = x;
    return LL_OK;
}

ll_code json_scan_array(json_scan *s, json_scan_elem_fn fn, void *ud, size_t *n)
{
    *n = 0;
    if (!json_scan_eat(s, '['))
        return json_scan_expected(s, "'['");
    if (json_scan_eat(s, ']'))
        return LL_OK;
    for (size_t i = 0;; i++) {
        json_scan_ws(s);
        ll_code rc = fn(s, i, ud);
        if (rc != LL_OK)
            return rc;
        *n = i + 1;
        if (json_scan_eat(s, ','))
            continue;
        if (json_scan_eat(s, ']'))
            return LL_OK;
        return json_scan_expected(s, "',' or ']'");
    }
}

ll_code json_scan_object(json_scan *s, json_scan_member_fn fn, void *ud)
{
    if (!json_scan_eat(s, '{'))
        return json_scan_expected(s, "'{'");
    if (json_scan_eat(s, '}'))
        return LL_OK;
    for (;;) {
        const char *k;
        size_t kn;
        ll_code rc = json_scan_string(s, &k, &kn);
        if (rc != LL_OK)
            return rc;
        if (!json_scan_eat(s, ':'))
            return json_scan_expected(s, "':'");
        json_scan_ws(s);
        if ((rc = fn(s, k, kn, ud)) != LL_OK)
            return rc;
        if (json_scan_eat(s, ','))
            continue;
        if (json_scan_eat(s, '}'))
            return LL_OK;
        return json_scan_expected(s, "',' or '}'");
    }
}

/* ---- instances ---- */

typedef struct inst {
    json_scan_value_fn features;
    void *ud;
} inst;

static ll_code data_member(json_scan *s, const char *k, size_t kn, void *ud)
{
    inst *in = ud;
    if (json_scan_key_is(k, kn, "features"))
        return in->features(s, in->ud);
    return json_scan_skip(s);
}

ll_code json_scan_instance_member(json_scan *s, const char *k, size_t kn,
                                  json_scan_value_fn features, void *ud, int *handled)
{
    *handled = 1;
    if (json_scan_key_is(k, kn, "features"))
        return features(s, ud);
    if (json_scan_key_is(k, kn, "data")) {
        if (s->p >= s->end || *s->p != '{')
            return json_scan_expected(s, "an object under \"data\"");
        inst in = {features, ud};
        return json_scan_object(s, data_member, &in);
    }
    *handled = 0;
    return LL_OK;
}

/* ---- FEATURES ---- */

typedef struct feat {
    ll_batch *b;
    json_scan_row *r;
    unsigned flags;
    int has_vals, has_keys, has_shape;
    size_t n_keys;
    uint64_t shape;
} feat;

static ll_code value_elem(json_scan *s, size_t i, void *ud)
{
    feat *f = ud;
    ll_code rc = batch_reserve_vals(f->b, f->r->off + i + 1, s->err);
    if (rc != LL_OK)
        return rc;
    return json_scan_f32(s, &f->b->val[f->r->off + i], f->flags);
}

static ll_code key_elem(json_scan *s, size_t i, void *ud)
{
    feat *f = ud;
    ll_code rc = batch_reserve_vals(f->b, f->r->off + i + 1, s->err);
    if (rc != LL_OK)
        return rc;
    const char *at = s->p;
    uint64_t k;
    if ((rc = json_scan_u64(s, &k)) != LL_OK)
        return rc;
    if (k >= UINT32_MAX)
        return json_scan_failf(s, at, "key %llu is too large (keys are below 2^32 - 1)",
                               (unsigned long long)k);
    f->b->idx[f->r->off + i] = (uint32_t)k;
    if (k + 1 > f->r->max_key)
        f->r->max_key = (uint32_t)(k + 1);
    return LL_OK;
}

static ll_code shape_elem(json_scan *s, size_t i, void *ud)
{
    feat *f = ud;
    const char *at = s->p;
    uint64_t d;
    ll_code rc = json_scan_u64(s, &d);
    if (rc != LL_OK)
        return rc;
    f->shape = i == 0 ? d : f->shape * d;
    if (d > UINT32_MAX + 1ull || f->shape > UINT32_MAX + 1ull)
        return json_scan_failf(s, at, "the shape is too large (more than 2^32 features)");
    return LL_OK;
}

static ll_code feature_member(json_scan *s, const char *k, size_t kn, void *ud)
{
    feat *f = ud;
    size_t n;
    if (json_scan_key_is(k, kn, "values")) {
        f->has_vals = 1;
        return json_scan_array(s, value_elem, f, &f->r->n_vals);
    }
    if (json_scan_key_is(k, kn, "keys")) {
        f->has_keys = 1;
        return json_scan_array(s, key_elem, f, &f->n_keys);
    }
    if (json_scan_key_is(k, kn, "shape")) {
        const char *at = s->p;
        ll_code rc = json_scan_array(s, shape_elem, f, &n);
        if (rc == LL_OK && n == 0)
            return json_scan_failf(s, at, "expected a non-empty shape");
        f->has_shape = 1;
        return rc;
    }
    return json_scan_skip(s);
}

ll_code json_scan_features(json_scan *s, ll_batch *b, json_scan_row *r, unsigned flags)
{
    json_scan_ws(s);
    const char *at = s->p;
    feat f = {b, r, flags, 0, 0, 0, 0, 0};
    r->n_vals = 0;
    r->sparse = 0;
    r->dim = 0;
    r->max_key = 0;
    if (s->p < s->end && *s->p == '[') {
        ll_code rc = json_scan_array(s, value_elem, &f, &r->n_vals);
        r->dim = r->n_vals;
        return rc;
    }
    if (s->p >= s->end || *s->p != '{')
        return json_scan_expected(s, "a list of numbers or an object with \"values\"");
    ll_code rc = json_scan_object(s, feature_member, &f);
    if (rc != LL_OK)
        return rc;
    if (f.has_keys) {
        if (f.n_keys != r->n_vals)
            return json_scan_failf(s, at, "\"keys\" has %zu entries but \"values\" has %zu",
                                   f.n_keys, r->n_vals);
        if (!f.has_shape && (flags & JSON_SCAN_SPARSE_NEEDS_SHAPE))
            return json_scan_failf(s, at, "sparse features (\"keys\") need a \"shape\"");
        if (f.has_shape && r->max_key > f.shape)
            return json_scan_failf(s, at, "key %u is outside the shape %llu", r->max_key - 1,
                                   (unsigned long long)f.shape);
        r->sparse = 1;
        r->dim = f.has_shape ? f.shape : 0;
        return LL_OK;
    }
    if (!f.has_vals)
        return json_scan_failf(s, at, "expected \"values\" in the features");
    if (f.has_shape && f.shape != r->n_vals)
        return json_scan_failf(s, at, "%zu values but the shape says %llu", r->n_vals,
                               (unsigned long long)f.shape);
    r->dim = r->n_vals;
    return LL_OK;
}
