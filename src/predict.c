/* SPDX-License-Identifier: Apache-2.0 */
/*
 * predict.c - batch transform (ll_predict): any source -> rows in mini-batches -> the scoring
 * core (score.c) -> an encoder (response.c) -> any destination, flushed after every batch so memory
 * stays constant. Picks the input format from the content type, the path or the first bytes,
 * and the output format from Accept or the destination's extension.
 */
#include "batch.h"
#include "err.h"
#include "json_req.h"
#include "mem.h"
#include "rd.h"
#include "score.h"
#include "serve.h"
#include <string.h>
#include <strings.h>

/* OpenBLAS's thread count (its cblas.h would bring all of BLAS in for one line). */

void ll_predict_opts_init(ll_predict_opts *o)
{
    memset(o, 0, sizeof *o);
    ll_parse_opts_init(&o->in);
    o->in.label_column = -1;
    o->batch_rows = 1000;
    o->max_json_bytes = (size_t)1 << 30;
}

/* A reader that first hands out the bytes already sniffed into a window, then the rest of the
 * source. */
typedef struct rd_prefix {
    ll_reader r;
    rd_buf *win; /* borrowed */
    ll_reader *rest;
} rd_prefix;

static ll_code prefix_read(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    rd_prefix *p = (rd_prefix *)self;
    size_t k = rd_buf_avail(p->win);
    if (k) {
        if (k > cap)
            k = cap;
        memcpy(buf, p->win->p + p->win->beg, k);
        p->win->beg += k;
        *n = k;
        return LL_OK;
    }
    if (p->win->eof) {
        *eof = 1;
        return LL_OK;
    }
    return ll_reader_read(p->rest, buf, cap, n, eof, err);
}

static void prefix_close(ll_reader *self)
{
    mem_free(self);
}

static serve_in from_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/') && !strcasecmp(dot, ".json"))
        return SERVE_IN_JSON;
    switch (ll_format_from_path(path)) {
    case LL_FMT_CSV:
        return SERVE_IN_CSV;
    case LL_FMT_JSONL:
        return SERVE_IN_JSONL;
    case LL_FMT_RECORDIO:
        return SERVE_IN_RIO;
    default:
        return SERVE_IN_NONE;
    }
}

static int out_from_path(const char *path, response_format *f)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return 0;
    dot++;
    if (!strcasecmp(dot, "jsonl") || !strcasecmp(dot, "jsonlines"))
        *f = RESP_JSONL;
    else if (!strcasecmp(dot, "csv"))
        *f = RESP_CSV;
    else if (!strcasecmp(dot, "pbr") || !strcasecmp(dot, "recordio") || !strcasecmp(dot, "rec") ||
             !strcasecmp(dot, "protobuf"))
        *f = RESP_RECORDIO;
    else if (!strcasecmp(dot, "json"))
        *f = RESP_JSON;
    else
        return 0;
    return 1;
}

/* From the first bytes: RecordIO magic, a JSON document ({"instances"...), JSON Lines (another
 * object), else CSV. */
static serve_in sniff(const uint8_t *p, size_t n)
{
    if (n >= 4 && p[0] == 0x0A && p[1] == 0x23 && p[2] == 0xD7 && p[3] == 0xCE)
        return SERVE_IN_RIO;
    size_t i = 0;
    while (i < n && strchr(" \t\r\n", p[i]))
        i++;
    if (i < n && p[i] == '{') {
        i++;
        while (i < n && strchr(" \t\r\n", p[i]))
            i++;
        if (n - i >= 11 && !memcmp(p + i, "\"instances\"", 11))
            return SERVE_IN_JSON;
        return SERVE_IN_JSONL;
    }
    return SERVE_IN_CSV;
}

typedef struct run {
    const ll_model *m;
    ll_writer *w;
    ll_batch b;
    score_buf sb;
    response_buf out;
    response_enc e;
    uint64_t rows;
    const char *src; /* input name for messages */
    const ll_reader *rd;
    ll_tick_fn tick;
    void *tick_ud;
} run;

static ll_code flush(run *r, ll_err *err)
{
    ll_code rc = score_encode(r->m, &r->b, r->rows, &r->sb, &r->e, &r->out, err);
    if (rc != LL_OK && r->sb.expected != r->sb.received)
        err_src(err, r->src);
    r->rows += r->b.n_rows;
    if (rc == LL_OK && r->out.len)
        rc = ll_writer_write(r->w, r->out.p, r->out.len, err);
    r->out.len = 0;
    if (r->tick)
        r->tick(r->tick_ud, ll_reader_offset(r->rd), r->rows);
    return rc;
}

static ll_code run_input(run *r, serve_in in, rd_buf *win, ll_reader *rd, const ll_predict_opts *o,
                         ll_err *err)
{
    size_t rows = o->batch_rows ? o->batch_rows : 1000;
    const char *name = ll_reader_name(rd);
    ll_code rc = LL_OK;
    if (in == SERVE_IN_JSON) {
        /* one document: read it whole (bounded) */
        while (rc == LL_OK && !win->eof) {
            rc = rd_buf_more(win, err);
            if (rc == LL_E_TOOBIG)
                return err_set(err, LL_E_TOOBIG,
                               "an application/json input is read whole and this one is larger "
                               "than %zu bytes (use JSON Lines)",
                               win->max),
                       err_src(err, name);
        }
        if (rc == LL_OK)
            rc = json_req_parse((const char *)win->p + win->beg, rd_buf_avail(win), name, &r->b,
                                err);
        if (rc == LL_OK)
            rc = flush(r, err);
        return rc;
    }
    if (in == SERVE_IN_JSONL) {
        json_lines_pos pos = {win->base + win->beg, 1};
        for (;;) {
            size_t used = 0;
            ll_batch_clear(&r->b);
            rc = json_req_lines((const char *)win->p + win->beg, rd_buf_avail(win), win->eof, rows,
                                name, &pos, &r->b, &used, err);
            if (rc != LL_OK)
                return rc;
            win->beg += used;
            if (r->b.n_rows && (rc = flush(r, err)) != LL_OK)
                return rc;
            if (win->eof && rd_buf_avail(win) == 0)
                return LL_OK;
            if (r->b.n_rows < rows) {
                rc = rd_buf_more(win, err);
                if (rc == LL_E_TOOBIG)
                    return err_set(err, LL_E_TOOBIG, "a line is longer than %zu bytes", win->max),
                           err_line(err, name, pos.offset, pos.line, 0);
                if (rc != LL_OK)
                    return rc;
            }
        }
    }
    /* CSV and RecordIO through the library's parser, after the sniffed bytes */
    rd_prefix *px = mem_calloc(1, sizeof *px);
    if (!px)
        return err_set(err, LL_E_NOMEM, "out of memory");
    rd_init(&px->r, name);
    px->r.read = prefix_read;
    px->r.close = prefix_close;
    px->win = win;
    px->rest = rd;
    ll_parse_opts po = o->in;
    po.format = in == SERVE_IN_CSV ? LL_FMT_CSV : LL_FMT_RECORDIO;
    ll_parser *p = NULL;
    rc = ll_parser_new(&px->r, &po, &p, err);
    int eof = 0;
    while (rc == LL_OK && !eof) {
        rc = ll_parser_next(p, &r->b, rows, &eof, err);
        if (rc == LL_OK && r->b.n_rows)
            rc = flush(r, err);
    }
    ll_parser_free(p);
    ll_reader_free(&px->r);
    return rc;
}

ll_code ll_predict(const ll_model *m, const char *src, const char *dst, const ll_predict_opts *o,
                   uint64_t *n_rows, ll_err *err)
{
    ll_predict_opts def;
    if (!o) {
        ll_predict_opts_init(&def);
        o = &def;
    }
    if (n_rows)
        *n_rows = 0;
    serve_in in = SERVE_IN_NONE;
    if (o->content_type) {
        in = serve_content_type(o->content_type);
        if (in == SERVE_IN_NONE)
            return err_set(err, LL_E_ARG,
                           "unsupported content type '%s' (text/csv, application/json, "
                           "application/jsonlines, application/x-recordio-protobuf)",
                           o->content_type);
    } else if (o->in.format == LL_FMT_CSV) {
        in = SERVE_IN_CSV;
    } else if (o->in.format == LL_FMT_JSONL) {
        in = SERVE_IN_JSONL;
    } else if (o->in.format == LL_FMT_RECORDIO) {
        in = SERVE_IN_RIO;
    } else if (o->in.format == LL_FMT_LIBSVM) {
        return err_set(err, LL_E_ARG, "predict does not read LIBSVM input");
    } else {
        in = from_path(src);
    }
    response_format fmt = RESP_JSON;
    if (o->accept) {
        if (!response_parse_accept(o->accept, &fmt))
            return err_set(err, LL_E_ARG,
                           "unsupported accept type '%s' (application/json, application/jsonlines, "
                           "application/x-recordio-protobuf, text/csv)",
                           o->accept);
    } else {
        out_from_path(dst, &fmt);
    }

    ll_reader *rd = NULL;
    ll_code rc = ll_reader_open(src, &rd, err);
    if (rc != LL_OK)
        return rc;
    run r;
    memset(&r, 0, sizeof r);
    r.m = m;
    r.src = ll_reader_name(rd);
    r.rd = rd;
    r.tick = o->tick;
    r.tick_ud = o->tick_ud;
    ll_batch_init(&r.b);
    response_init(&r.e, fmt, ll_model_predictor(m), ll_model_n_outputs(m));
    rd_buf win;
    size_t max = in == SERVE_IN_JSON || in == SERVE_IN_NONE ? o->max_json_bytes : 0;
    if (max == 0)
        max = o->in.max_record_len ? o->in.max_record_len : (size_t)64 << 20;
    rc = rd_buf_init(&win, rd, (size_t)1 << 16, max, err);
    if (rc != LL_OK) {
        ll_reader_free(rd);
        return rc;
    }
    if (in == SERVE_IN_NONE) {
        rc = rd_buf_fill(&win, 4096, err);
        if (rc == LL_OK)
            in = sniff(win.p + win.beg, rd_buf_avail(&win));
        if (in != SERVE_IN_JSON && rc == LL_OK)
            win.max = o->in.max_record_len ? o->in.max_record_len : (size_t)64 << 20;
    }
    if (rc == LL_OK) /* value storage even for rows with no values (see serve_body) */
        rc = batch_reserve_vals(&r.b, 1, err);
    if (rc == LL_OK)
        rc = ll_writer_open(dst, &r.w, err);
    if (rc == LL_OK)
        rc = response_begin(&r.e, &r.out, err);
    if (rc == LL_OK)
        rc = run_input(&r, in, &win, rd, o, err);
    if (rc == LL_OK) {
        rc = response_end(&r.e, &r.out, err);
        if (rc == LL_OK && r.out.len)
            rc = ll_writer_write(r.w, r.out.p, r.out.len, err);
    }
    if (rc == LL_OK) {
        ll_writer *w = r.w;
        r.w = NULL;
        rc = ll_writer_commit(w, err);
    }
    ll_writer_abort(r.w);
    if (n_rows)
        *n_rows = r.rows;
    rd_buf_deinit(&win);
    ll_reader_free(rd);
    ll_batch_deinit(&r.b);
    score_buf_deinit(&r.sb);
    response_buf_deinit(&r.out);
    return rc;
}
