/* SPDX-License-Identifier: Apache-2.0 */
/*
 * csv.c - CSV/TSV chunk parser in the SageMaker convention: numeric fields only, the label in
 * one column (first by default, none with label_column -1), no header unless asked, RFC 4180
 * quoting, LF or CRLF, blank lines skipped. Rows go into the batch as dense rows whose width
 * is fixed by the first data row. Fields are parsed in place with ll_str_to_f32 (its inline
 * fast path float_text_fast on rows of plain numbers once the width is known); only quoted
 * fields are copied (into st->sbuf).
 */
#include "batch.h"
#include "err.h"
#include "float_text.h"
#include "mem.h"
#include "text.h"
#include <math.h>
#include <string.h>

/* A record that is not complete in the buffer: stop and ask for more bytes. */
#define INCOMPLETE 1

typedef struct {
    text_state *st;
    const char *buf, *end;
    int eof;
    char delim;
    uint64_t line; /* line of the record being parsed */
    ll_err *err;
} csv_ctx;

static inline int is_blank(char c, char delim)
{
    return c == ' ' || c == '\r' || (c == '\t' && delim != '\t');
}

/* Past the record starting at p (quote-aware), counting newlines into *nl; NULL if the record
 * does not end inside the buffer. */
static const char *skip_record(const char *p, const char *end, int eof, uint64_t *nl)
{
    int inq = 0;
    for (; p < end; p++) {
        if (*p == '"')
            inq = !inq;
        else if (*p == '\n') {
            (*nl)++;
            if (!inq)
                return p + 1;
        }
    }
    return eof ? end : NULL;
}

/* Shows at most 40 bytes of a field, cut at the end of its line. */
static int shown_len(const char *s, size_t n)
{
    size_t k = 0;
    while (k < n && k < 40 && s[k] != '\n' && s[k] != '\r')
        k++;
    return (int)k;
}

static ll_code field_error(csv_ctx *c, const char *at, long field, const char *fmt_text, size_t n)
{
    char shown[200];
    if (n == 0)
        err_set(c->err, LL_E_PARSE, "expected a number, found an empty field");
    else
        err_set(c->err, LL_E_PARSE, "%s, found '%s'", text_expected_number(fmt_text, n),
                text_show(shown, sizeof shown, fmt_text, n));
    return err_line(c->err, c->st->src, c->st->offset + (uint64_t)(at - c->buf), c->line,
                    (uint64_t)field + 1);
}

/* The bytes of an unquoted field from p: up to the delimiter or the end of the line. Returns
 * NULL when the field does not end inside the buffer (and more may come). */
static const char *field_end(csv_ctx *c, const char *p)
{
    const char *q = p;
    while (q < c->end && *q != c->delim && *q != '\n')
        q++;
    if (q == c->end && !c->eof)
        return NULL;
    while (q > p && (q[-1] == ' ' || q[-1] == '\r' || (q[-1] == '\t' && c->delim != '\t')))
        q--;
    return q;
}

/* Fields in the rest of the line from p (quote-aware, for error messages only). */
static long count_rest(csv_ctx *c, const char *p)
{
    long n = 1;
    int inq = 0;
    for (; p < c->end; p++) {
        if (*p == '"')
            inq = !inq;
        else if (!inq && *p == '\n')
            break;
        else if (!inq && *p == c->delim)
            n++;
    }
    return n;
}

/* A quoted field at *pp (on the opening quote): unquotes it into st->sbuf and parses its
 * number. Returns LL_OK, INCOMPLETE or an error; *pp moves past the closing quote and any
 * blanks; *nl counts the newlines inside the quotes. */
static int quoted_field(csv_ctx *c, const char **pp, long field, float *f, uint64_t *nl)
{
    text_state *st = c->st;
    const char *start = *pp, *r = start + 1;
    size_t sl = 0;
    uint64_t lines = 0;
    for (;;) {
        const char *q = memchr(r, '"', (size_t)(c->end - r));
        if (!q) {
            if (!c->eof)
                return INCOMPLETE;
            err_set(c->err, LL_E_PARSE, "unterminated quoted field (expected a closing '\"')");
            return err_line(c->err, st->src, st->offset + (uint64_t)(start - c->buf), c->line,
                            (uint64_t)field + 1);
        }
        if (q + 1 == c->end && !c->eof)
            return INCOMPLETE;
        size_t n = (size_t)(q - r), want = sl + n + 2;
        if (want > st->scap) {
            size_t cap = st->scap ? st->scap : 64;
            while (cap < want)
                cap *= 2;
            char *s = mem_realloc(st->sbuf, cap);
            if (!s)
                return err_set(c->err, LL_E_NOMEM, "out of memory unquoting a CSV field");
            st->sbuf = s;
            st->scap = cap;
        }
        for (const char *k = r; k < q; k++)
            lines += *k == '\n';
        memcpy(st->sbuf + sl, r, n);
        sl += n;
        if (q + 1 < c->end && q[1] == '"') {
            st->sbuf[sl++] = '"';
            r = q + 2;
            continue;
        }
        r = q + 1;
        break;
    }
    while (r < c->end && is_blank(*r, c->delim))
        r++;
    if (r == c->end && !c->eof)
        return INCOMPLETE;
    if (r < c->end && *r != c->delim && *r != '\n') {
        err_set(c->err, LL_E_PARSE, "expected a delimiter after a closing quote, found '%.*s'",
                shown_len(r, (size_t)(c->end - r)), r);
        return err_line(c->err, st->src, st->offset + (uint64_t)(r - c->buf), c->line + lines,
                        (uint64_t)field + 1);
    }
    st->sbuf[sl] = 0;
    const char *s = st->sbuf, *se = st->sbuf + sl;
    while (s < se && (*s == ' ' || (*s >= '\t' && *s <= '\r')))
        s++;
    while (se > s && (se[-1] == ' ' || (se[-1] >= '\t' && se[-1] <= '\r')))
        se--;
    size_t k = s < se && (unsigned char)*s > ' ' ? ll_str_to_f32(s, (size_t)(se - s), f) : 0;
    if (k == 0 || k != (size_t)(se - s) || (st->o->finite && !isfinite(*f)))
        return field_error(c, start, field, s, (size_t)(se - s));
    *pp = r;
    *nl += lines;
    return LL_OK;
}

static ll_code count_error(csv_ctx *c, const char *at, long want, long got)
{
    err_set(c->err, LL_E_PARSE, "expected %ld fields, got %ld", want, got);
    return err_line(c->err, c->st->src, c->st->offset + (uint64_t)(at - c->buf), c->line,
                    (uint64_t)(got > want ? want + 1 : got));
}

/* Resolves the delimiter from the first non-blank line. Returns 0 when that line is not
 * complete yet. */
static int detect_delim(text_state *st, const char *p, const char *end, int eof)
{
    if (st->o->delimiter) {
        st->delim = st->o->delimiter;
        return 1;
    }
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol && !eof)
            return 0;
        const char *le = eol ? eol : end;
        int tab = memchr(p, '\t', (size_t)(le - p)) != NULL;
        int comma = memchr(p, ',', (size_t)(le - p)) != NULL;
        int blank = 1;
        for (const char *q = p; q < le; q++)
            if (*q != ' ' && *q != '\t' && *q != '\r')
                blank = 0;
        if (!blank || tab) {
            st->delim = tab && !comma ? '\t' : ',';
            return 1;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    if (!eof)
        return 0;
    st->delim = ',';
    return 1;
}

ll_code csv_parse(text_state *st, const char *buf, size_t len, int eof, size_t max_rows,
                  ll_batch *b, size_t *used, ll_err *err)
{
    *used = 0;
    const char *p = buf, *end = buf + len;
    uint64_t lines = 0;
    if (st->offset == 0 && !st->delim) { /* a UTF-8 byte order mark at the very start */
        if (len < 3 && !eof && memcmp(buf, "\xEF\xBB\xBF", len) == 0)
            return LL_OK;
        if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
            p += 3;
    }
    if (!st->delim && !detect_delim(st, p, end, eof))
        return LL_OK;
    csv_ctx c = {st, buf, end, eof, st->delim, 0, err};
    const char delim = st->delim;
    const int lab = st->o->label_column;
    /* float_text_fast stops before any byte that could continue a number: the fast row then needs
     * the delimiter to be none of those nor a blank or quote (which the general loop treats
     * apart), and 32 readable bytes at each field */
    const int fast_ok = !strchr("0123456789.eExX+- \r\"", delim);
    const char *safe_end = len >= 32 ? end - 32 : buf;
    ll_code rc;
    const char *done = p;
    while (b->n_rows < max_rows) {
        /* blank lines */
        const char *q = p;
        while (q < end && is_blank(*q, delim))
            q++;
        if (q == end) {
            if (eof)
                done = p = end;
            break;
        }
        if (*q == '\n') {
            p = q + 1;
            lines++;
            done = p;
            continue;
        }
        c.line = st->line + lines;
        if (st->o->header && !st->header_done) {
            uint64_t nl = 0;
            const char *r = skip_record(p, end, eof, &nl);
            if (!r)
                break;
            st->header_done = 1;
            lines += nl;
            done = p = r;
            continue;
        }
        /* one record */
        if ((rc = batch_reserve_rows(b, b->n_rows + 1, err)) != LL_OK ||
            (rc = batch_reserve_labels(b, b->loff[b->n_rows] + 1, err)) != LL_OK ||
            (rc = batch_reserve_vals(b, b->off[b->n_rows] + (st->n_fields ? st->n_fields : 16),
                                     err)) != LL_OK)
            return rc;
        const size_t o = b->off[b->n_rows];
        const long nf = st->n_fields;
        float *val = b->val;
        size_t nv = 0;
        long field = 0;
        float label = 0;
        uint64_t nl = 0;
        const char *r = p;
        int incomplete = 0;
        if (nf && fast_ok) {
            /* Fast row: the width is known (room for nf values is reserved), fields are
             * numbers, each followed directly by the delimiter (the last by '\n'). Anything
             * else (blanks, quotes, CR, a short buffer, errors) redoes the row below. */
            for (;;) {
                if (r >= safe_end)
                    break;
                float f;
                size_t k = float_text_fast(r, &f);
                if (k && ((r[k] | 0x20) == 'e' || (r[k] | 0x20) == 'x'))
                    k = 0;    /* an exponent (or "0x"): the number goes on */
                if (k == 0) { /* a spelling float_text_fast leaves to ll_str_to_f32 */
                    if ((unsigned char)*r <= ' ' || *r == '"')
                        break;
                    k = ll_str_to_f32(r, (size_t)(end - r), &f);
                    if (k == 0 || (st->o->finite && !isfinite(f)))
                        break; /* the general loop reports it */
                }
                r += k;
                if (r >= end) /* a long spelling ran to the end of the buffer */
                    break;
                if (field == lab)
                    label = f;
                else
                    val[o + nv++] = f;
                field++;
                if (*r == delim && field < nf) {
                    r++;
                    continue;
                }
                if (*r == '\n' && field == nf) {
                    r++;
                    nl = 1;
                    goto commit; /* the width is right: nothing left to check */
                }
                break;
            }
            r = p;
            nv = 0;
            field = 0;
            label = 0;
        }
        for (;;) {
            while (r < end && (*r == ' ' || (*r == '\t' && delim != '\t')))
                r++;
            const char *fs = r;
            float f;
            if (r < end && *r == '"') {
                int k = quoted_field(&c, &r, field, &f, &nl);
                if (k == INCOMPLETE) {
                    incomplete = 1;
                    break;
                }
                if (k != LL_OK)
                    return (ll_code)k;
            } else {
                size_t k = r < end && (unsigned char)*r > ' '
                               ? ll_str_to_f32(r, (size_t)(end - r), &f)
                               : 0;
                r += k;
                while (r < end && is_blank(*r, delim))
                    r++;
                if (k == 0 || (r < end && *r != delim && *r != '\n') ||
                    (st->o->finite && !isfinite(f))) {
                    const char *fe = field_end(&c, fs);
                    if (!fe) {
                        incomplete = 1;
                        break;
                    }
                    c.line = st->line + lines + nl;
                    return field_error(&c, fs, field, fs, (size_t)(fe - fs));
                }
                if (r == end && !eof) {
                    incomplete = 1;
                    break;
                }
            }
            if (field == lab) {
                label = f;
            } else {
                if (o + nv >= b->cap_val) {
                    if ((rc = batch_reserve_vals(b, o + nv + 1, err)) != LL_OK)
                        return rc;
                    val = b->val;
                }
                val[o + nv++] = f;
            }
            field++;
            if (r < end && *r == delim) {
                r++;
                if (nf && field >= nf) {
                    /* too many fields: complete the line before reporting */
                    uint64_t dummy = 0;
                    if (!skip_record(r, end, eof, &dummy)) {
                        incomplete = 1;
                        break;
                    }
                    c.line = st->line + lines + nl;
                    return count_error(&c, r, nf, field + count_rest(&c, r));
                }
                continue;
            }
            if (r < end) { /* '\n' */
                r++;
                nl++;
            }
            break;
        }
        if (incomplete)
            break;
        if (!nf) {
            if (lab >= 0 && field <= lab) {
                err_set(err, LL_E_PARSE,
                        "the label column %d is beyond the %ld fields of the first row", lab + 1,
                        field);
                return err_line(err, st->src, st->offset + (uint64_t)(p - buf), c.line, 0);
            }
            st->n_fields = field;
        } else if (field != nf) {
            return count_error(&c, r - (r > p && r[-1] == '\n'), nf, field);
        }
    commit:
        if (lab >= 0)
            b->label[b->loff[b->n_rows]] = label;
        batch_commit_row(b, nv, nv, 0, lab >= 0 ? 1 : 0);
        b->src_line[b->n_rows - 1] = c.line;
        b->src_off[b->n_rows - 1] = st->offset + (uint64_t)(p - buf);
        lines += nl;
        done = p = r;
    }
    *used = (size_t)(done - buf);
    st->offset += *used;
    st->line += lines;
    return LL_OK;
}
