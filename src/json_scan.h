/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_scan.h - the one JSON scanner under the JSON Lines training parser (jsonl.c) and the
 * inference request parsers (json_req.c): a cursor over bytes, the JSON primitives, and the
 * "features" grammar they share (spec 5.1), parsed straight into a batch's arrays:
 *
 *   FEATURES  [v, v, ...]                                                  dense row
 *             {"values": [v, ...]}                                         dense row
 *             {"values": [v, ...], "shape": [d, ...]}                      dense; the shape must
 * agree
 *             {"keys": [k, ...], "values": [v, ...], "shape": [d, ...]}    sparse row
 *
 * Numbers are JSON numbers, plus NaN, Infinity and -Infinity as Python writes them; with
 * JSON_SCAN_QUOTED_NUMBERS also inside strings ("1.5", "NaN"). Keys and shape entries are
 * non-negative integers (a trailing ".0" allowed). Other members are skipped whatever they
 * hold. No tree and no recursion: deep nesting in a skipped value costs no stack.
 */
#ifndef LL_JSON_SCAN_H
#define LL_JSON_SCAN_H
#include "linlearn.h"

typedef struct json_scan json_scan;

/* Reports msg at byte `at` of the text; the user adds its context (instance, line, column) and
 * returns LL_E_PARSE. */
typedef ll_code (*json_scan_fail_fn)(json_scan *s, const char *at, const char *msg);

struct json_scan {
    const char *beg, *p, *end; /* the text and the cursor */
    const char *end_name;      /* what the end is called in messages ("the end of the line") */
    json_scan_fail_fn fail;
    void *ud; /* for fail */
    ll_err *err;
};

/* Flags of json_scan_features. */
enum {
    JSON_SCAN_QUOTED_NUMBERS = 1,     /* accept numbers written as strings */
    JSON_SCAN_SPARSE_NEEDS_SHAPE = 2, /* "keys" without a "shape" is an error */
};

/* A row parsed by json_scan_features. */
typedef struct json_scan_row {
    size_t off;       /* in: where the row's values (and keys) start in the batch */
    size_t n_vals;    /* out: values written at b->val[off ..] (keys at b->idx[off ..]) */
    int sparse;       /* out: "keys" were given */
    uint64_t dim;     /* out: dense: n_vals; sparse: the shape's product, 0 without a shape */
    uint32_t max_key; /* out: sparse: the largest key + 1 */
} json_scan_row;

void json_scan_ws(json_scan *s);
/* Skips blanks, then consumes c; 0 (cursor after the blanks) when c is not there. */
int json_scan_eat(json_scan *s, char c);
/* A message at `at` (printf format). */
ll_code json_scan_failf(json_scan *s, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "expected WHAT, found 'x...'" (or "found the end of ...") at the cursor. */
ll_code json_scan_expected(json_scan *s, const char *what);
/* A string (the cursor on its quote, after blanks): its raw bytes, escapes left as they are. */
ll_code json_scan_string(json_scan *s, const char **str, size_t *n);
int json_scan_key_is(const char *k, size_t n, const char *lit);
/* Skips any value. */
ll_code json_scan_skip(json_scan *s);
/* A number (flags: JSON_SCAN_QUOTED_NUMBERS). */
ll_code json_scan_f32(json_scan *s, float *v, unsigned flags);
/* A non-negative integer. */
ll_code json_scan_u64(json_scan *s, uint64_t *v);

/* '[' elem (',' elem)* ']' (or "[]"): calls fn for each element, i counting from 0; *n gets
 * the count. */
typedef ll_code (*json_scan_elem_fn)(json_scan *s, size_t i, void *ud);
ll_code json_scan_array(json_scan *s, json_scan_elem_fn fn, void *ud, size_t *n);
/* '{' "key": value, ... '}': calls fn with each key, the cursor on the value, which fn must
 * consume (json_scan_skip for keys it does not know). */
typedef ll_code (*json_scan_member_fn)(json_scan *s, const char *k, size_t kn, void *ud);
ll_code json_scan_object(json_scan *s, json_scan_member_fn fn, void *ud);

/* The members every instance form shares: "features": FEATURES and "data": {"features":
 * FEATURES, ...}. For those keys calls features(s, ud) with the cursor on FEATURES and sets
 * *handled; other keys are left to the caller (*handled 0, cursor unmoved). */
typedef ll_code (*json_scan_value_fn)(json_scan *s, void *ud);
ll_code json_scan_instance_member(json_scan *s, const char *k, size_t kn,
                                  json_scan_value_fn features, void *ud, int *handled);

/* FEATURES (above) into b at r->off; checks keys against values and the shape. */
ll_code json_scan_features(json_scan *s, ll_batch *b, json_scan_row *r, unsigned flags);
#endif
