/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libsvm.c - LIBSVM / SVMlight chunk parser: "label idx:val idx:val ... # comment" per line,
 * optional qid:N (skipped), blank and comment lines skipped. Indices are 1-based by default
 * (index_base). Rows are sparse; their shape is feature_dim when set, else the running largest
 * column + 1 over the stream.
 */
#include "batch.h"
#include "err.h"
#include "text.h"
#include <math.h>
#include <string.h>

static inline int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static int shown_len(const char *s, const char *le)
{
    int k = 0;
    while (s + k < le && k < 40 && !is_ws(s[k]))
        k++;
    return k;
}

static ll_code item_error(text_state *st, const char *buf, const char *at, const char *le,
                          uint64_t line, long item, const char *what, ll_err *err)
{
    char shown[200];
    if (at < le && *at != '#')
        err_set(err, LL_E_PARSE, "expected %s, found '%s'", what,
                text_show(shown, sizeof shown, at, (size_t)shown_len(at, le)));
    else
        err_set(err, LL_E_PARSE, "expected %s, found the end of the line", what);
    return err_line(err, st->src, st->offset + (uint64_t)(at - buf), line, (uint64_t)item);
}

ll_code libsvm_parse(text_state *st, const char *buf, size_t len, int eof, size_t max_rows,
                     ll_batch *b, size_t *used, ll_err *err)
{
    *used = 0;
    const char *p = buf, *end = buf + len;
    const uint64_t base = st->o->index_base > 0 ? (uint64_t)st->o->index_base : 0;
    const uint64_t fd = st->o->feature_dim;
    uint64_t lines = 0;
    ll_code rc;
    while (b->n_rows < max_rows && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol && !eof)
            break;
        const char *le = eol ? eol : end;
        const char *next = eol ? eol + 1 : end;
        const uint64_t line = st->line + lines;
        const char *r = p;
        while (r < le && is_ws(*r))
            r++;
        if (r == le || *r == '#') {
            lines += eol != NULL;
            p = next;
            continue;
        }
        float label;
        size_t k = (unsigned char)*r > ' ' ? ll_str_to_f32(r, (size_t)(le - r), &label) : 0;
        if (k == 0 || (r + k < le && !is_ws(r[k]) && r[k] != '#'))
            return item_error(st, buf, r, le, line, 1, "a label (a number)", err);
        if (st->o->finite && !isfinite(label))
            return item_error(st, buf, r, le, line, 1,
                              "a finite label (NaN and infinity are refused in training data)",
                              err);
        r += k;
        if ((rc = batch_reserve_rows(b, b->n_rows + 1, err)) != LL_OK ||
            (rc = batch_reserve_labels(b, b->loff[b->n_rows] + 1, err)) != LL_OK ||
            (rc = batch_reserve_vals(b, b->off[b->n_rows] + 64, err)) != LL_OK)
            return rc;
        const size_t o = b->off[b->n_rows];
        float *val = b->val;
        uint32_t *idx = b->idx;
        size_t nv = 0;
        long item = 1;
        uint64_t maxc = 0;
        for (;;) {
            while (r < le && is_ws(*r))
                r++;
            if (r == le || *r == '#')
                break;
            item++;
            const char *is = r;
            if (le - r >= 4 && memcmp(r, "qid:", 4) == 0) {
                r += 4;
                const char *ds = r;
                while (r < le && (unsigned)(*r - '0') < 10u)
                    r++;
                if (r == ds || (r < le && !is_ws(*r) && *r != '#'))
                    return item_error(st, buf, is, le, line, item, "'qid:' and a number", err);
                continue;
            }
            uint64_t ix = 0;
            const char *ds = r;
            while (r < le && (unsigned)(*r - '0') < 10u) {
                if (ix < ((uint64_t)1 << 40))
                    ix = ix * 10 + (uint64_t)(*r - '0');
                r++;
            }
            if (r == ds || r == le || *r != ':')
                return item_error(st, buf, is, le, line, item, "'index:value'", err);
            r++;
            float v;
            k = r < le && (unsigned char)*r > ' ' ? ll_str_to_f32(r, (size_t)(le - r), &v) : 0;
            if (k == 0 || (r + k < le && !is_ws(r[k]) && r[k] != '#'))
                return item_error(st, buf, r, le, line, item, "a number after 'index:'", err);
            if (st->o->finite && !isfinite(v))
                return item_error(st, buf, r, le, line, item,
                                  "a finite number after 'index:' (NaN and infinity are refused "
                                  "in training data)",
                                  err);
            r += k;
            if (ix < base) {
                err_set(err, LL_E_PARSE, "feature index %llu is below the index base %llu",
                        (unsigned long long)ix, (unsigned long long)base);
                return err_line(err, st->src, st->offset + (uint64_t)(is - buf), line,
                                (uint64_t)item);
            }
            uint64_t col = ix - base;
            if ((fd && col >= fd) || col >= UINT32_MAX) {
                if (fd && col >= fd)
                    err_set(err, LL_E_PARSE,
                            "feature index %llu is outside feature_dim %llu (index base %llu)",
                            (unsigned long long)ix, (unsigned long long)fd,
                            (unsigned long long)base);
                else
                    err_set(err, LL_E_PARSE, "feature index %.*s is too large", (int)(r - is), is);
                return err_line(err, st->src, st->offset + (uint64_t)(is - buf), line,
                                (uint64_t)item);
            }
            if (o + nv >= b->cap_val) {
                if ((rc = batch_reserve_vals(b, o + nv + 1, err)) != LL_OK)
                    return rc;
                val = b->val;
                idx = b->idx;
            }
            val[o + nv] = v;
            idx[o + nv] = (uint32_t)col;
            nv++;
            if (col + 1 > maxc)
                maxc = col + 1;
        }
        uint64_t dim;
        if (fd) {
            dim = fd;
        } else {
            if (maxc > st->max_dim)
                st->max_dim = maxc;
            dim = st->max_dim;
        }
        b->label[b->loff[b->n_rows]] = label;
        batch_commit_row(b, nv, dim, 1, 1);
        b->src_line[b->n_rows - 1] = line;
        b->src_off[b->n_rows - 1] = st->offset + (uint64_t)(p - buf);
        lines += eol != NULL;
        p = next;
    }
    *used = (size_t)(p - buf);
    st->offset += *used;
    st->line += lines;
    return LL_OK;
}
