/* SPDX-License-Identifier: Apache-2.0 */
/* json_req.c - the JSON and JSON Lines request parsers of json_req.h: one pass over the bytes,
 * values written straight into the batch's arrays, no tree and no allocation besides the
 * batch's own growth. The scanner and the "features" grammar are json_scan.c's (shared with
 * the JSON Lines training parser); here: the body, the instances and their messages. */
#include "json_req.h"
#include "batch.h"
#include "err.h"
#include "json_scan.h"
#include <string.h>

typedef struct jp {
    const char *src;
    uint64_t base; /* source offset of the scanner's beg */
    uint64_t line; /* JSON Lines: line number for messages (0: not lines) */
    uint64_t inst; /* 0-based instance number for messages */
    ll_batch *b;
    json_scan_row row;
    int found; /* "features" seen in this instance */
} jp;

/* Errors name the instance and the byte offset (and the line for JSON Lines). */
static ll_code req_fail(json_scan *s, const char *at, const char *msg)
{
    jp *j = s->ud;
    err_set(s->err, LL_E_PARSE, "instance %llu: %s", (unsigned long long)j->inst, msg);
    uint64_t off = j->base + (uint64_t)(at - s->beg);
    if (j->line)
        return err_line(s->err, j->src, off, j->line, 0);
    return err_at(s->err, j->src, off);
}

static ll_code features(json_scan *s, void *ud)
{
    jp *j = ud;
    j->found = 1;
    return json_scan_features(s, j->b, &j->row, JSON_SCAN_SPARSE_NEEDS_SHAPE);
}

static ll_code instance_member(json_scan *s, const char *k, size_t kn, void *ud)
{
    int handled;
    ll_code rc = json_scan_instance_member(s, k, kn, features, ud, &handled);
    return handled ? rc : json_scan_skip(s);
}

/* INSTANCE -> one row appended to b. */
static ll_code instance(json_scan *s, jp *j)
{
    ll_batch *b = j->b;
    ll_code rc = batch_reserve_rows(b, b->n_rows + 1, s->err);
    if (rc != LL_OK)
        return rc;
    memset(&j->row, 0, sizeof j->row);
    j->row.off = b->off[b->n_rows];
    j->found = 0;
    json_scan_ws(s);
    if (s->p < s->end && *s->p == '[') {
        if ((rc = json_scan_features(s, b, &j->row, JSON_SCAN_SPARSE_NEEDS_SHAPE)) != LL_OK)
            return rc;
        j->found = 1;
    } else {
        if (s->p >= s->end || *s->p != '{')
            return json_scan_expected(s, "an instance (an object with \"features\" or a list)");
        if ((rc = json_scan_object(s, instance_member, j)) != LL_OK)
            return rc;
    }
    if (!j->found)
        return json_scan_expected(s, "\"features\" in the instance (before this point)");
    batch_commit_row(b, j->row.n_vals, j->row.dim, j->row.sparse, 0);
    j->inst++;
    return LL_OK;
}

static ll_code instance_elem(json_scan *s, size_t i, void *ud)
{
    return instance(s, ud);
}

static ll_code body_member(json_scan *s, const char *k, size_t kn, void *ud)
{
    jp *j = ud;
    if (!json_scan_key_is(k, kn, "instances"))
        return json_scan_skip(s);
    if (s->p >= s->end || *s->p != '[')
        return json_scan_expected(s, "'[' (the list of instances)");
    ll_batch_clear(j->b);
    j->inst = 0;
    size_t n;
    ll_code rc = json_scan_array(s, instance_elem, j, &n);
    if (rc == LL_OK)
        j->found = 2; /* the body had its instances */
    return rc;
}

ll_code json_req_parse(const char *p, size_t len, const char *src, ll_batch *b, ll_err *err)
{
    ll_batch_clear(b);
    jp j = {src ? src : "request", 0, 0, 0, b, {0}, 0};
    json_scan s = {p, p, p + len, "the end of the input", req_fail, &j, err};
    ll_code rc = batch_reserve_rows(b, 1, err);
    if (rc != LL_OK)
        return rc;
    json_scan_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return json_scan_expected(&s, "'{' (a body of the form {\"instances\": [...]})");
    if ((rc = json_scan_object(&s, body_member, &j)) != LL_OK)
        return rc;
    json_scan_ws(&s);
    if (s.p != s.end)
        return json_scan_expected(&s, "the end of the body");
    if (j.found != 2)
        return json_scan_expected(&s, "an \"instances\" key (before this point)");
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
        jp j = {src ? src : "request", pos->offset, pos->line, b->n_rows, b, {0}, 0};
        json_scan s = {buf + at, buf + at, buf + end, "the end of the line", req_fail, &j, err};
        json_scan_ws(&s);
        if (s.p != s.end) {
            ll_code rc = instance(&s, &j);
            if (rc != LL_OK)
                return rc;
            json_scan_ws(&s);
            if (s.p != s.end)
                return json_scan_expected(&s, "the end of the line after the instance");
        }
        pos->offset += next - at;
        pos->line++;
        at = next;
    }
    *used = at;
    return LL_OK;
}
