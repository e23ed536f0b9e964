/* SPDX-License-Identifier: Apache-2.0 */
/* parse.c - ll_parser: picks the format (from options, the source's name or its first bytes),
 * owns the read window, and drives the RecordIO decoder or a text chunk parser until a batch
 * is full. It knows nothing about where the bytes come from. */
#include "parse.h"
#include "batch.h"
#include "err.h"
#include "media.h"
#include "mem.h"
#include "parse_mt.h"
#include "pb.h"
#include "rd.h"
#include "rio.h"
#include "text.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct ll_parser {
    ll_reader *rd;
    ll_parse_opts o;
    ll_format fmt;
    uint64_t rows;
    int done;
    /* RecordIO */
    rio_reader rio;
    pb_record rec;
    size_t last_len;
    /* text */
    rd_buf tb;
    text_state ts;
    text_parse_fn parse;
    pmt *mt;   /* CSV and LIBSVM on worker threads (parse_mt.c) */
    int mt_no; /* one thread for the rest: asked for, too small, or handed back by mt */
};

void ll_parse_opts_init(ll_parse_opts *o)
{
    memset(o, 0, sizeof *o);
    o->format = LL_FMT_AUTO;
    o->label_column = 0;
    o->index_base = 1;
    o->split = LL_SPLIT_AUTO;
    o->max_record_len = (size_t)64 << 20;
    o->threads = 1;
}

ll_format ll_format_from_name(const char *name)
{
    if (!name)
        return LL_FMT_AUTO;
    /* content types may carry parameters: "text/csv;label_size=1" */
    size_t n = strcspn(name, ";");
    while (n && (name[n - 1] == ' '))
        n--;
    /* media types: the one table (media.c) */
    ll_format f = media_format(media_lookup(name, n));
    if (f != LL_FMT_AUTO)
        return f;
        /* short names */
#define IS(s) (n == strlen(s) && strncasecmp(name, s, n) == 0)
    if (IS("csv") || IS("tsv"))
        return LL_FMT_CSV;
    if (IS("libsvm") || IS("svm") || IS("svmlight"))
        return LL_FMT_LIBSVM;
    if (IS("recordio") || IS("recordio-protobuf") || IS("protobuf") || IS("pbr") || IS("rec"))
        return LL_FMT_RECORDIO;
    if (IS("jsonl") || IS("jsonlines"))
        return LL_FMT_JSONL;
#undef IS
    return LL_FMT_AUTO;
}

ll_format ll_format_from_path(const char *path)
{
    if (!path)
        return LL_FMT_AUTO;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot)
        return LL_FMT_AUTO;
    char ext[16];
    size_t n = strlen(dot + 1);
    if (n == 0 || n >= sizeof ext)
        return LL_FMT_AUTO;
    memcpy(ext, dot + 1, n + 1);
    if (strcasecmp(ext, "gz") == 0)
        return LL_FMT_AUTO;
    if (strcasecmp(ext, "tsv") == 0 || strcasecmp(ext, "csv") == 0)
        return LL_FMT_CSV;
    if (strcasecmp(ext, "recordio") == 0 || strcasecmp(ext, "pbr") == 0 ||
        strcasecmp(ext, "rec") == 0 || strcasecmp(ext, "protobuf") == 0 ||
        strcasecmp(ext, "rio") == 0)
        return LL_FMT_RECORDIO;
    return ll_format_from_name(ext);
}

const char *ll_format_name(ll_format f)
{
    switch (f) {
    case LL_FMT_CSV:
        return "csv";
    case LL_FMT_LIBSVM:
        return "libsvm";
    case LL_FMT_RECORDIO:
        return "recordio";
    case LL_FMT_JSONL:
        return "jsonl";
    case LL_FMT_AUTO:
        break;
    }
    return "auto";
}

/* Guesses the format from the first bytes of a text or binary stream. */
static ll_format sniff(const uint8_t *p, size_t n)
{
    if (n >= 4 && p[0] == 0x0A && p[1] == 0x23 && p[2] == 0xD7 && p[3] == 0xCE)
        return LL_FMT_RECORDIO;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i < n && p[i] == '{')
        return LL_FMT_JSONL;
    /* LIBSVM lines look like "label idx:val idx:val": a colon in the first line */
    for (size_t k = i; k < n && p[k] != '\n'; k++)
        if (p[k] == ':')
            return LL_FMT_LIBSVM;
    return LL_FMT_CSV;
}

ll_code ll_parser_new(ll_reader *rd, const ll_parse_opts *o, ll_parser **out, ll_err *err)
{
    *out = NULL;
    ll_parser *p = mem_calloc(1, sizeof *p);
    if (!p)
        return err_set(err, LL_E_NOMEM, "out of memory");
    p->rd = rd;
    if (o)
        p->o = *o;
    else
        ll_parse_opts_init(&p->o);
    if (p->o.max_record_len == 0)
        p->o.max_record_len = (size_t)64 << 20;
    pb_record_init(&p->rec);
    ll_format f = p->o.format;
    if (f == LL_FMT_AUTO)
        f = ll_format_from_path(ll_reader_name(rd));
    ll_code rc;
    if (f == LL_FMT_AUTO || f != LL_FMT_RECORDIO) {
        /* text formats (and sniffing) read through a text window */
        rc = rd_buf_init(&p->tb, rd, (size_t)1 << 20, p->o.max_record_len, err);
        if (rc != LL_OK) {
            mem_free(p);
            return rc;
        }
        if (f == LL_FMT_AUTO) {
            rc = rd_buf_fill(&p->tb, 4096, err);
            if (rc != LL_OK && rc != LL_E_TOOBIG) {
                rd_buf_deinit(&p->tb);
                mem_free(p);
                return rc;
            }
            f = sniff(p->tb.p + p->tb.beg, rd_buf_avail(&p->tb));
        }
    }
    p->fmt = f;
    if (f == LL_FMT_RECORDIO) {
        rc = rio_reader_init(&p->rio, rd, p->o.split, p->o.max_record_len, err);
        if (rc == LL_OK && p->tb.p) {
            /* hand the sniffed bytes over to the RecordIO window */
            size_t n = rd_buf_avail(&p->tb);
            if (n > p->rio.buf.cap) {
                rc = err_set(err, LL_E_STATE, "internal: sniff window too large");
            } else {
                memcpy(p->rio.buf.p, p->tb.p + p->tb.beg, n);
                p->rio.buf.end = n;
                p->rio.buf.eof = p->tb.eof;
            }
            rd_buf_deinit(&p->tb);
        }
        if (rc != LL_OK) {
            ll_parser_free(p);
            return rc;
        }
    } else {
        text_state_init(&p->ts, &p->o, ll_reader_name(rd));
        p->parse = f == LL_FMT_CSV ? csv_parse : f == LL_FMT_LIBSVM ? libsvm_parse : jsonl_parse;
    }
    *out = p;
    return LL_OK;
}

ll_format ll_parser_format(const ll_parser *p)
{
    return p->fmt;
}

uint64_t ll_parser_rows(const ll_parser *p)
{
    return p->rows;
}

/* The decoded record as a row of b; without features it is refused unless the options allow
 * it (then a row of no values, dimension 0). */
static ll_code row_of_record(ll_parser *p, ll_batch *b, ll_err *err)
{
    if (!p->o.allow_no_features || pb_find(&p->rec, 0, "values"))
        return pb_row_to_batch(&p->rec, b, err);
    const pb_entry *le = pb_find(&p->rec, 1, "values");
    size_t n = le && le->t.dtype != PB_NONE && le->t.dtype != PB_BYTES ? le->t.n_values : 0;
    float one[8], *lab = n <= 8 ? one : mem_alloc(n * sizeof *lab);
    if (!lab)
        return err_set(err, LL_E_NOMEM, "out of memory");
    if (n)
        pb_values_f32(&p->rec, &le->t, lab);
    ll_code rc = ll_batch_add_row(b, NULL, NULL, 0, 0, lab, n, err);
    if (lab != one)
        mem_free(lab);
    return rc;
}

static ll_code next_recordio(ll_parser *p, ll_batch *b, size_t max_rows, int *eof, ll_err *err)
{
    while (b->n_rows < max_rows) {
        const uint8_t *pl;
        size_t len;
        int end;
        ll_code rc = rio_next(&p->rio, &pl, &len, &end, err);
        if (rc != LL_OK)
            return rc;
        if (end) {
            *eof = 1;
            p->done = 1;
            return LL_OK;
        }
        p->last_len = len;
        rc = pb_decode(pl, len, &p->rec, err);
        const uint8_t *alt;
        size_t alt_len;
        if (rc == LL_E_PARSE && rio_alt(&p->rio, &alt, &alt_len)) {
            /* auto: the frames read as dmlc-core's do not make a Record; try plain fragments */
            ll_err e2;
            if (pb_decode(alt, alt_len, &p->rec, &e2) == LL_OK) {
                rc = LL_OK;
                p->last_len = len = alt_len;
            } else if (err) {
                size_t k = strlen(err->msg);
                snprintf(err->msg + k, sizeof err->msg - k,
                         "; read as plain fragments (%u frames): %s", p->rio.n_frames, e2.msg);
            }
        }
        if (rc == LL_OK)
            rc = row_of_record(p, b, err);
        if (rc == LL_OK)
            b->src_off[b->n_rows - 1] = p->rio.rec_off;
        if (rc == LL_OK && p->o.finite &&
            batch_row_nonfinite(b, b->n_rows - 1, &(size_t){0}, &(int){0}, &(float){0}))
            rc = batch_nonfinite_error(b, b->n_rows - 1, err);
        if (rc != LL_OK) {
            if (err && rc == LL_E_PARSE) {
                size_t k = strlen(err->msg);
                if (k + 48 < sizeof err->msg)
                    snprintf(err->msg + k, sizeof err->msg - k, " (record payload of %zu bytes)",
                             len);
            }
            return err_rec(err, ll_reader_name(p->rd), p->rio.rec_off, p->rio.n_records - 1);
        }
        p->rows++;
    }
    return LL_OK;
}

static ll_code next_text(ll_parser *p, ll_batch *b, size_t max_rows, int *eof, ll_err *err)
{
    rd_buf *tb = &p->tb;
    while (b->n_rows < max_rows) {
        size_t before = b->n_rows, used = 0;
        ll_code rc = p->parse(&p->ts, (const char *)tb->p + tb->beg, rd_buf_avail(tb), tb->eof,
                              max_rows, b, &used, err);
        if (rc != LL_OK)
            return rc;
        tb->beg += used;
        p->rows += b->n_rows - before;
        if (b->n_rows >= max_rows)
            break;
        if (tb->eof) {
            if (rd_buf_avail(tb) == 0 || used == 0) {
                *eof = 1;
                p->done = 1;
                return LL_OK;
            }
            continue;
        }
        if (used == 0 || rd_buf_avail(tb) < 65536) {
            rc = rd_buf_more(tb, err);
            if (rc == LL_E_TOOBIG)
                return err_set(err, LL_E_TOOBIG,
                               "a line is longer than %zu bytes (raise --max-record-bytes)",
                               tb->max),
                       err_line(err, ll_reader_name(p->rd), p->ts.offset, p->ts.line, 0);
            if (rc != LL_OK)
                return rc;
        }
    }
    return LL_OK;
}

/* Starts the worker threads once the text's settings are decided (CSV: delimiter, header and
 * width, from the first rows on this thread) and the input is more than one chunk. */
static ll_code mt_start(ll_parser *p, ll_err *err)
{
    if (p->o.threads == 1 || (p->fmt != LL_FMT_CSV && p->fmt != LL_FMT_LIBSVM)) {
        p->mt_no = 1;
        return LL_OK;
    }
    if (p->fmt == LL_FMT_CSV &&
        (!p->ts.delim || (p->o.header && !p->ts.header_done) || !p->ts.n_fields))
        return LL_OK; /* not yet */
    size_t chunk = p->o.chunk_bytes ? (size_t)p->o.chunk_bytes : PMT_CHUNK_DEFAULT;
    if (chunk > p->tb.max / 2)
        chunk = p->tb.max / 2 ? p->tb.max / 2 : 1;
    ll_code rc = rd_buf_fill(&p->tb, chunk + 1, err);
    if (rc != LL_OK)
        return rc;
    if (p->tb.eof && rd_buf_avail(&p->tb) <= chunk) { /* one chunk: not worth threads */
        p->mt_no = 1;
        return LL_OK;
    }
    return pmt_new(&p->tb, &p->ts, p->parse, p->fmt == LL_FMT_CSV, p->o.threads, chunk, &p->mt,
                   err);
}

ll_code ll_parser_next(ll_parser *p, ll_batch *b, size_t max_rows, int *eof, ll_err *err)
{
    ll_batch_clear(b);
    *eof = 0;
    if (p->done) {
        *eof = 1;
        return LL_OK;
    }
    if (max_rows == 0)
        max_rows = 1;
    if (p->fmt == LL_FMT_RECORDIO)
        return next_recordio(p, b, max_rows, eof, err);
    if (!p->mt && !p->mt_no) {
        ll_code rc = mt_start(p, err);
        if (rc != LL_OK)
            return rc;
    }
    if (p->mt) {
        int seq = 0;
        size_t before = b->n_rows;
        ll_code rc = pmt_next(p->mt, b, max_rows, eof, &seq, err);
        p->rows += b->n_rows - before;
        if (rc != LL_OK || !seq) {
            if (*eof)
                p->done = 1;
            return rc;
        }
        pmt_free(p->mt); /* the rest on this thread */
        p->mt = NULL;
        p->mt_no = 1;
    }
    return next_text(p, b, max_rows, eof, err);
}

void ll_parser_free(ll_parser *p)
{
    if (!p)
        return;
    pmt_free(p->mt);
    rio_reader_deinit(&p->rio);
    rd_buf_deinit(&p->tb);
    if (p->parse)
        text_state_deinit(&p->ts);
    pb_record_deinit(&p->rec);
    mem_free(p);
}

const pb_record *parse_last_record(const ll_parser *p, uint64_t *offset, size_t *len)
{
    if (p->fmt != LL_FMT_RECORDIO || p->rows == 0)
        return NULL;
    if (offset)
        *offset = p->rio.rec_off;
    if (len)
        *len = p->last_len;
    return &p->rec;
}

uint64_t parse_bytes(const ll_parser *p)
{
    if (p->fmt == LL_FMT_RECORDIO)
        return rd_buf_pos(&p->rio.buf);
    return rd_buf_pos(&p->tb);
}
