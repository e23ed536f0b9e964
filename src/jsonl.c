/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonl.c - JSON Lines chunk parser: one object per line, as written by the JSONL sink and by
 * SageMaker clients:
 *   {"label": 1.0, "features": [0.5, 2.0]}                                    dense
 *   {"label": [1, 0], "features": {"keys": [3, 9], "values": [0.5, 2.0], "shape": [50000]}}
 *   {"features": [...]}   {"data": {"features": {"values": [...]}}}            inference shapes
 * The scanner and the "features" grammar are json_scan.c's (shared with the inference request
 * parsers); here: the lines, "label" and the row's dimension. Numbers may be bare or strings
 * (NaN, Infinity and -Infinity too); a sparse row without a shape takes the largest key seen
 * so far + 1. Unknown members are skipped.
 */
#include "batch.h"
#include "err.h"
#include "json_scan.h"
#include "text.h"
#include <string.h>

typedef struct {
    text_state *st;
    const char *buf, *ls; /* buffer, line start */
    uint64_t line;
    ll_batch *b;
    json_scan_row row; /* the features */
    size_t lo;         /* where this row's labels start */
    size_t nl;         /* labels written */
    int have_feat;
    int have_label;
} jctx;

/* Errors name the source, the line, the column and the byte offset. */
static ll_code line_fail(json_scan *s, const char *at, const char *msg)
{
    jctx *j = s->ud;
    err_set(s->err, LL_E_PARSE, "%s", msg);
    return err_line(s->err, j->st->src, j->st->offset + (uint64_t)(at - j->buf), j->line,
                    (uint64_t)(at - j->ls) + 1);
}

static ll_code label_elem(json_scan *s, size_t i, void *ud)
{
    jctx *j = ud;
    ll_code rc = batch_reserve_labels(j->b, j->lo + i + 1, s->err);
    if (rc != LL_OK)
        return rc;
    return json_scan_f32(s, &j->b->label[j->lo + i], JSON_SCAN_QUOTED_NUMBERS);
}

static ll_code features(json_scan *s, void *ud)
{
    jctx *j = ud;
    if (j->have_feat)
        return json_scan_failf(s, s->p, "\"features\" given twice");
    j->have_feat = 1;
    return json_scan_features(s, j->b, &j->row, JSON_SCAN_QUOTED_NUMBERS);
}

static ll_code top_member(json_scan *s, const char *k, size_t kn, void *ud)
{
    jctx *j = ud;
    int handled;
    ll_code rc = json_scan_instance_member(s, k, kn, features, j, &handled);
    if (handled)
        return rc;
    if (json_scan_key_is(k, kn, "label")) {
        if (j->have_label)
            return json_scan_failf(s, s->p, "\"label\" given twice");
        j->have_label = 1;
        if (s->p < s->end && *s->p == '[')
            return json_scan_array(s, label_elem, j, &j->nl);
        if (s->p + 4 <= s->end && memcmp(s->p, "null", 4) == 0) {
            s->p += 4;
            return LL_OK;
        }
        j->nl = 1;
        return label_elem(s, 0, j);
    }
    return json_scan_skip(s);
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
        jctx j;
        memset(&j, 0, sizeof j);
        j.st = st;
        j.buf = buf;
        j.ls = p;
        j.line = st->line + lines;
        j.b = b;
        json_scan s = {p, p, le, "the end of the line", line_fail, &j, err};
        json_scan_ws(&s);
        if (s.p == le) {
            lines += eol != NULL;
            p = next;
            continue;
        }
        if ((rc = batch_reserve_rows(b, b->n_rows + 1, err)) != LL_OK)
            return rc;
        j.row.off = b->off[b->n_rows];
        j.lo = b->loff[b->n_rows];
        if ((rc = json_scan_object(&s, top_member, &j)) != LL_OK)
            return rc;
        json_scan_ws(&s);
        if (s.p < le) {
            int k = 0;
            while (s.p + k < le && k < 30 && !strchr(",]}", s.p[k]))
                k++;
            return json_scan_failf(&s, s.p, "unexpected '%.*s' after the object", k ? k : 1, s.p);
        }
        if (!j.have_feat) {
            err_set(err, LL_E_PARSE, "expected a \"features\" member in the object");
            return err_line(err, st->src, st->offset + (uint64_t)(p - buf), j.line, 0);
        }
        uint64_t dim = j.row.dim;
        if (j.row.sparse && !dim) {
            if (j.row.max_key > st->max_dim)
                st->max_dim = j.row.max_key;
            dim = st->max_dim;
        }
        batch_commit_row(b, j.row.n_vals, dim, j.row.sparse, j.nl);
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
