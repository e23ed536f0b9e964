/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serve.c - the SageMaker hosting protocol over libmicrohttpd (the only file that sees its
 * types): GET /ping, POST /invocations, GET /execution-parameters. A thread pool with HTTP/1.1
 * keep-alive; bodies are checked against the payload limit from Content-Length before they are
 * read and while they arrive; each request is parsed, scored and encoded with per-worker scratch
 * that is reused and trimmed, so memory does not grow with the number of requests. Parsing,
 * scoring and encoding belong to parse.c/json_req.c, score.c and response.c.
 */
#include "serve.h"
#include "batch.h"
#include "err.h"
#include "gate.h"
#include "json_req.h"
#include "media.h"
#include "mem.h"
#include "rio.h"
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* OpenBLAS's thread count (its cblas.h would bring all of BLAS in for one line). */

/* Scratch kept by an idle worker at most (bigger is freed after the request). */
#define KEEP_BYTES ((size_t)8 << 20)
/* Responses larger than this are handed to MHD instead of copied (no connection context). */
#define HANDOFF_BYTES ((size_t)256 << 10)
/* Body and response buffers a keep-alive connection keeps between requests at most. */
#define CONN_KEEP_BYTES ((size_t)1 << 20)

struct ll_server {
    struct MHD_Daemon *d;
    const ll_model *m;
    ll_serve_opts o;
    char host[64];
    uint16_t port;
    char exec_params[160];
    pthread_mutex_t mu;
    pthread_cond_t idle;
    unsigned in_flight;
    uint64_t served;
    serve_work **pool; /* free worker scratch */
    size_t n_pool, cap_pool;
    serve_reuse reuse; /* counters (atomic) */
    /* header deadlines: the open connections, and a thread closing those whose request head
     * is late (libmicrohttpd's own timeout restarts with every byte) */
    pthread_mutex_t cmu;
    struct conn *conns;
    pthread_t reaper;
    int reaper_on, reaper_stop;
    /* the accept-and-peek step (gate.c) owns the listening socket; connections it passes on
     * wait here, with their header deadline from accept, until libmicrohttpd announces them */
    gate *g;
    struct handed {
        int fd;
        double deadline_ms;
    } * handed;
    size_t n_handed, cap_handed;
};

/* What a request turned out to be on its first call; answered once its body is in. */
enum { R_NONE = 0, R_INVOKE, R_PING, R_EXEC, R_NOT_FOUND, R_BAD_METHOD };

/* Per TCP connection, kept across its keep-alive requests: the body buffer (requests on one
 * connection come one after another) and the last response's bytes, which MHD sends straight
 * from here (the worker's encoding buffer is swapped in, not copied). */
typedef struct conn {
    uint8_t *body;
    size_t body_cap;
    response_buf out;
    /* header deadline (ll_server.conns, under cmu) */
    struct conn *prev, *next;
    int fd;
    int in_head;        /* waiting for a request's line and headers */
    double deadline_ms; /* ... until then (CLOCK_MONOTONIC) */
} conn;

static double mono_ms(void)
{
    return gate_now_ms();
}

typedef struct req {
    int route; /* R_*: answered at the final call */
    serve_in in;
    response_format fmt;
    conn *k;       /* the connection's context, NULL if it could not be allocated */
    uint8_t *body; /* k->body when k is set, else owned */
    size_t len, cap;
    int too_big;
} req;

void ll_serve_opts_init(ll_serve_opts *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 8080;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
    o->max_payload = (size_t)6 << 20;
    o->timeout_s = 60;
    o->batch_rows = 1000;
    o->max_concurrent_transforms = 8;
    o->header_timeout_s = 10;
}

serve_in serve_content_type(const char *ct)
{
    if (!ct)
        return SERVE_IN_NONE;
    switch (media_lookup(ct, (size_t)-1)) {
    case MEDIA_CSV:
        return SERVE_IN_CSV;
    case MEDIA_JSON:
        return SERVE_IN_JSON;
    case MEDIA_JSONL:
        return SERVE_IN_JSONL;
    case MEDIA_RECORDIO:
        return SERVE_IN_RIO;
    default:
        return SERVE_IN_NONE;
    }
}

void serve_work_init(serve_work *w)
{
    memset(w, 0, sizeof *w);
    ll_batch_init(&w->b);
    pb_record_init(&w->rec);
}

void serve_work_deinit(serve_work *w)
{
    if (!w)
        return;
    ll_batch_deinit(&w->b);
    score_buf_deinit(&w->sb);
    response_buf_deinit(&w->out);
    text_state_deinit(&w->ts);
    pb_record_deinit(&w->rec);
}

void serve_work_trim(serve_work *w, size_t keep_bytes)
{
    size_t held = w->b.cap_val * (sizeof(float) + sizeof(uint32_t)) +
                  w->b.cap_rows * (2 * sizeof(size_t) + 3 * sizeof(uint64_t) + 1 + sizeof(float)) +
                  w->b.cap_label * sizeof(float) + w->sb.cap_scores * sizeof(float) +
                  w->sb.cap_rows * sizeof(float) + w->out.cap + w->ts.fcap * sizeof(float) +
                  w->ts.icap * sizeof(uint32_t) + w->ts.scap;
    if (held > keep_bytes) {
        serve_work_deinit(w);
        serve_work_init(w);
    }
}

/* 1 if body is nothing but whole-record RecordIO frames (cflag 0, the SDK's way) that the
 * framing reader would accept: the magic, a length that fits. Otherwise (split records, any
 * framing error) the body goes through the framing reader, which reports errors the usual way. */
static int whole_frames(const uint8_t *p, size_t len)
{
    size_t at = 0;
    while (at < len) {
        if (len - at < 8)
            return 0;
        const uint8_t *h = p + at;
        uint32_t magic =
            (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
        uint32_t lrec =
            (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
        if (magic != RIO_MAGIC || lrec >> 29 != 0)
            return 0;
        size_t fs = rio_frame_size(lrec & RIO_MAX_LEN);
        if (fs > len - at)
            return 0;
        at += fs;
    }
    return 1;
}

/* Scores the rows now in w->b. */
static ll_code flush_rows(const ll_model *m, serve_work *w, uint64_t *row, response_enc *e,
                          ll_err *err)
{
    if (!m) {
        *row += w->b.n_rows;
        return LL_OK;
    }
    ll_code rc = score_encode(m, &w->b, *row, &w->sb, e, &w->out, err);
    *row += w->b.n_rows;
    return rc;
}

ll_code serve_body(const ll_model *m, serve_in in, response_format fmt, const uint8_t *body,
                   size_t len, size_t batch_rows, serve_work *w, ll_err *err)
{
    response_enc e;
    response_init(&e, fmt, m ? ll_model_predictor(m) : LL_REGRESSOR, m ? ll_model_n_outputs(m) : 1);
    w->out.len = 0;
    if (batch_rows == 0)
        batch_rows = 1000;
    ll_code rc = m ? response_begin(&e, &w->out, err) : LL_OK;
    if (rc != LL_OK)
        return rc;
    /* the batch always has value storage: pb_row_to_batch forms val + off even for a Record
     * with no values (UBSan: offset on a null pointer) */
    rc = batch_reserve_vals(&w->b, 1, err);
    if (rc != LL_OK)
        return rc;
    uint64_t row = 0;
    if (in == SERVE_IN_JSON) {
        rc = json_req_parse((const char *)body, len, "request", &w->b, err);
        if (rc == LL_OK)
            rc = flush_rows(m, w, &row, &e, err);
    } else if (in == SERVE_IN_JSONL) {
        json_lines_pos pos = {0, 1};
        size_t at = 0;
        while (rc == LL_OK && at < len) {
            size_t used = 0;
            ll_batch_clear(&w->b);
            rc = json_req_lines((const char *)body + at, len - at, 1, batch_rows, "request", &pos,
                                &w->b, &used, err);
            if (rc == LL_OK)
                rc = flush_rows(m, w, &row, &e, err);
            if (used == 0)
                break;
            at += used;
        }
    } else if (in == SERVE_IN_CSV) {
        /* straight from the body: no reader, no window, no copy */
        ll_parse_opts o;
        ll_parse_opts_init(&o);
        o.format = LL_FMT_CSV;
        o.label_column = -1;
        o.delimiter = ',';
        o.max_record_len = len + 16;
        text_state keep = w->ts; /* a fresh state that keeps the grown scratch */
        text_state_init(&w->ts, &o, "request");
        w->ts.fbuf = keep.fbuf, w->ts.fcap = keep.fcap;
        w->ts.ibuf = keep.ibuf, w->ts.icap = keep.icap;
        w->ts.sbuf = keep.sbuf, w->ts.scap = keep.scap;
        size_t at = 0;
        while (rc == LL_OK && at < len) {
            size_t used = 0;
            ll_batch_clear(&w->b);
            rc = csv_parse(&w->ts, (const char *)body + at, len - at, 1, batch_rows, &w->b, &used,
                           err);
            if (rc == LL_OK && w->b.n_rows)
                rc = flush_rows(m, w, &row, &e, err);
            if (used == 0)
                break;
            at += used;
        }
        w->ts.o = NULL;
    } else if (in == SERVE_IN_RIO && whole_frames(body, len)) {
        /* each Record decoded where it lies in the body, as the parser would (same messages) */
        size_t at = 0;
        uint64_t rec = 0;
        ll_batch_clear(&w->b);
        while (rc == LL_OK && at < len) {
            uint32_t n = ((uint32_t)body[at + 4] | (uint32_t)body[at + 5] << 8 |
                          (uint32_t)body[at + 6] << 16 | (uint32_t)body[at + 7] << 24) &
                         RIO_MAX_LEN;
            rc = pb_decode(body + at + 8, n, &w->rec, err);
            if (rc == LL_OK)
                rc = pb_row_to_batch(&w->rec, &w->b, err);
            if (rc != LL_OK) {
                if (err && rc == LL_E_PARSE) {
                    size_t k = strlen(err->msg);
                    if (k + 48 < sizeof err->msg)
                        snprintf(err->msg + k, sizeof err->msg - k, " (record payload of %u bytes)",
                                 (unsigned)n);
                }
                return err_rec(err, "request", at, rec);
            }
            rec++;
            at += rio_frame_size(n);
            if (w->b.n_rows >= batch_rows || at >= len) {
                rc = flush_rows(m, w, &row, &e, err);
                ll_batch_clear(&w->b);
            }
        }
    } else if (in == SERVE_IN_RIO) {
        ll_reader *rd = ll_reader_mem(body, len, "request");
        if (!rd)
            return err_set(err, LL_E_NOMEM, "out of memory");
        ll_parse_opts o;
        ll_parse_opts_init(&o);
        o.format = LL_FMT_RECORDIO;
        o.max_record_len = len + 16;
        ll_parser *p = NULL;
        rc = ll_parser_new(rd, &o, &p, err);
        int eof = 0;
        while (rc == LL_OK && !eof) {
            rc = ll_parser_next(p, &w->b, batch_rows, &eof, err);
            if (rc == LL_OK && w->b.n_rows)
                rc = flush_rows(m, w, &row, &e, err);
        }
        ll_parser_free(p);
        ll_reader_free(rd);
    } else {
        return err_set(err, LL_E_ARG, "unsupported request content type");
    }
    if (rc == LL_OK && m)
        rc = response_end(&e, &w->out, err);
    return rc;
}

/* ---- HTTP ---- */

/* The methods a path takes (the Allow header of a 405), NULL for an unknown path. */
static const char *allowed(const char *url)
{
    if (!strcmp(url, "/invocations"))
        return "POST";
    if (!strcmp(url, "/ping") || !strcmp(url, "/execution-parameters"))
        return "GET, HEAD";
    return NULL;
}

static enum MHD_Result send_bytes_allow(struct MHD_Connection *c, unsigned status,
                                        const char *ctype, const void *p, size_t len,
                                        const char *allow)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)p, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header(r, "Content-Type", ctype);
    if (allow)
        MHD_add_response_header(r, "Allow", allow);
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_bytes(struct MHD_Connection *c, unsigned status, const char *ctype,
                                  const void *p, size_t len)
{
    return send_bytes_allow(c, status, ctype, p, len, NULL);
}

/* Appends s JSON-escaped to o (bounded by end). */
static char *json_esc(char *o, const char *end, const char *s)
{
    for (; *s && o + 8 < end; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            *o++ = '\\';
            *o++ = (char)ch;
        } else if (ch < 0x20) {
            o += sprintf(o, "\\u%04x", ch);
        } else {
            *o++ = (char)ch;
        }
    }
    return o;
}

/* A JSON error body: {"error": kind, "message": msg, location fields...}, with an Allow header
 * when allow is set. */
static enum MHD_Result send_error_allow(struct MHD_Connection *c, unsigned status, const char *kind,
                                        const char *msg, const ll_err *e, const score_buf *dim,
                                        const char *allow)
{
    char buf[1024], *o = buf, *end = buf + sizeof buf - 160;
    o += sprintf(o, "{\"error\": \"%s\", \"message\": \"", kind);
    o = json_esc(o, end, msg);
    o += sprintf(o, "\"");
    if (e && (e->has & LL_ERR_LINE))
        o += sprintf(o, ", \"line\": %llu", (unsigned long long)e->line);
    if (e && (e->has & LL_ERR_COLUMN))
        o += sprintf(o, ", \"column\": %llu", (unsigned long long)e->column);
    if (e && (e->has & LL_ERR_OFFSET))
        o += sprintf(o, ", \"offset\": %llu", (unsigned long long)e->offset);
    if (e && (e->has & LL_ERR_RECORD))
        o += sprintf(o, ", \"record\": %llu", (unsigned long long)e->record);
    if (dim)
        o += sprintf(o, ", \"row\": %llu, \"expected\": %llu, \"received\": %llu",
                     (unsigned long long)dim->bad_row + 1, (unsigned long long)dim->expected,
                     (unsigned long long)dim->received);
    o += sprintf(o, "}\n");
    return send_bytes_allow(c, status, "application/json", buf, (size_t)(o - buf), allow);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *kind,
                                  const char *msg, const ll_err *e, const score_buf *dim)
{
    return send_error_allow(c, status, kind, msg, e, dim, NULL);
}

/* ---- request-head checks libmicrohttpd leaves to us (RFC 9112 §6) ---- */

void serve_head_add(serve_head *h, const char *key, const char *value)
{
    if (!key)
        return;
    const char *v = value ? value : "";
    if (!strcasecmp(key, "Content-Length")) {
        uint64_t x = 1469598103934665603ull; /* FNV-1a of the whole value */
        for (const char *p = v; *p; p++)
            x = (x ^ (unsigned char)*p) * 1099511628211ull;
        if (h->n_cl++ == 0)
            h->cl_hash = x;
        else if (x != h->cl_hash)
            h->cl_differ = 1;
    } else if (!strcasecmp(key, "Transfer-Encoding")) {
        if (h->n_te++ == 0)
            snprintf(h->te, sizeof h->te, "%s", v);
    }
}

unsigned serve_head_verdict(const serve_head *h, char *msg, size_t cap)
{
    if (h->cl_differ) {
        snprintf(msg, cap, "the request has Content-Length headers that differ (RFC 9112 6.3)");
        return 400;
    }
    if (!h->n_te)
        return 0;
    const char *t = h->te;
    while (*t == ' ' || *t == '\t')
        t++;
    size_t n = strlen(t);
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
        n--;
    if (h->n_te > 1 || n != 7 || strncasecmp(t, "chunked", 7) != 0) {
        snprintf(msg, cap,
                 "Transfer-Encoding '%.60s' is not supported: send the body as is or chunked",
                 h->te);
        return 501;
    }
    if (h->n_cl) {
        snprintf(msg, cap,
                 "the request has both Transfer-Encoding and Content-Length (RFC 9112 6.3)");
        return 400;
    }
    return 0;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    serve_head_add(cls, key, value);
    return MHD_YES;
}

/* Refuses a head whose body length is ambiguous (a request-smuggling hazard behind a proxy):
 * Content-Length values that differ, or given with Transfer-Encoding (400), a
 * Transfer-Encoding other than chunked (501). Returns 0 when the head is fine, else the answer
 * was queued into *ok. */
static int bad_framing(struct MHD_Connection *c, enum MHD_Result *ok)
{
    serve_head h;
    memset(&h, 0, sizeof h);
    MHD_get_connection_values(c, MHD_HEADER_KIND, scan_header, &h);
    char msg[160];
    unsigned st = serve_head_verdict(&h, msg, sizeof msg);
    if (!st)
        return 0;
    *ok = send_error(c, st, st == 501 ? "not implemented" : "bad request", msg, NULL, NULL);
    return 1;
}

static serve_work *work_get(ll_server *s)
{
    serve_work *w = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->n_pool)
        w = s->pool[--s->n_pool];
    pthread_mutex_unlock(&s->mu);
    if (w) {
        __atomic_fetch_add(&s->reuse.work_reused, 1, __ATOMIC_RELAXED);
        return w;
    }
    w = mem_alloc(sizeof *w);
    if (w) {
        serve_work_init(w);
        __atomic_fetch_add(&s->reuse.work_new, 1, __ATOMIC_RELAXED);
    }
    return w;
}

static void work_put(ll_server *s, serve_work *w)
{
    serve_work_trim(w, KEEP_BYTES);
    pthread_mutex_lock(&s->mu);
    if (s->n_pool < s->cap_pool) {
        s->pool[s->n_pool++] = w;
        w = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (w) {
        serve_work_deinit(w);
        mem_free(w);
    }
}

static void free_cb(void *p)
{
    mem_free(p);
}

static enum MHD_Result invoke(ll_server *s, struct MHD_Connection *c, req *r)
{
    if (r->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body exceeds the limit of %zu bytes",
                 s->o.max_payload);
        return send_error(c, 413, "payload too large", msg, NULL, NULL);
    }
    if (r->len == 0)
        return send_error(c, 400, "bad request", "Unable to evaluate payload provided: empty body",
                          NULL, NULL);
    serve_work *w = work_get(s);
    if (!w)
        return send_error(c, 503, "out of memory", "no memory for the request", NULL, NULL);
    ll_err err;
    ll_err_clear(&err);
    ll_code rc = serve_body(s->m, r->in, r->fmt, r->body, r->len, s->o.batch_rows, w, &err);
    enum MHD_Result ok;
    if (rc == LL_OK) {
        struct MHD_Response *resp;
        if (r->k) {
            /* the connection keeps the bytes until the response is sent: swap, no copy */
            response_buf t = r->k->out;
            r->k->out = w->out;
            w->out = t;
            w->out.len = 0;
            resp =
                MHD_create_response_from_buffer(r->k->out.len, r->k->out.p, MHD_RESPMEM_PERSISTENT);
        } else if (w->out.len > HANDOFF_BYTES) {
            resp =
                MHD_create_response_from_buffer_with_free_callback(w->out.len, w->out.p, free_cb);
            if (resp)
                memset(&w->out, 0, sizeof w->out);
        } else {
            resp = MHD_create_response_from_buffer(w->out.len, w->out.p, MHD_RESPMEM_MUST_COPY);
        }
        if (!resp) {
            ok = send_error(c, 503, "out of memory", "no memory for the response", NULL, NULL);
        } else {
            MHD_add_response_header(resp, "Content-Type", response_content_type(r->fmt));
            ok = MHD_queue_response(c, 200, resp);
            MHD_destroy_response(resp);
        }
    } else if (rc == LL_E_NOMEM) {
        ok = send_error(c, 503, "out of memory", err.msg, &err, NULL);
    } else if (w->sb.expected != w->sb.received) {
        ok = send_error(c, 400, "bad request", err.msg, &err, &w->sb);
    } else {
        ok = send_error(c, 400, "bad request", err.msg, &err, NULL);
    }
    w->sb.bad_row = w->sb.expected = w->sb.received = 0;
    work_put(s, w);
    return ok;
}

/* Makes room for `need` bytes of body (keeping what is there). 0 on out of memory. */
static int body_room(ll_server *s, req *r, size_t need)
{
    if (need <= r->cap)
        return 1;
    uint8_t *p = mem_realloc(r->body, need);
    if (!p)
        return 0;
    __atomic_fetch_add(&s->reuse.body_allocs, 1, __ATOMIC_RELAXED);
    r->body = p;
    r->cap = need;
    if (r->k) {
        r->k->body = p;
        r->k->body_cap = need;
    }
    return 1;
}

/* The first call for a request: routes it, and for POST /invocations checks the headers (a
 * refusal there is answered at once, before any body is read). Other answers wait for the
 * final call, so the connection stays open for the next request. */
static enum MHD_Result first_call(ll_server *s, struct MHD_Connection *c, const char *url,
                                  const char *method, req *r)
{
    enum MHD_Result refused;
    if (bad_framing(c, &refused))
        return refused;
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!strcmp(url, "/ping")) {
        r->route = get ? R_PING : R_BAD_METHOD;
        return MHD_YES;
    }
    if (!strcmp(url, "/execution-parameters")) {
        r->route = get ? R_EXEC : R_BAD_METHOD;
        return MHD_YES;
    }
    if (strcmp(url, "/invocations") != 0) {
        r->route = R_NOT_FOUND;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0) {
        r->route = R_BAD_METHOD;
        return MHD_YES;
    }
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    r->in = serve_content_type(ct);
    if (r->in == SERVE_IN_NONE) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "unsupported Content-Type '%.60s': use text/csv, application/json, "
                 "application/jsonlines or application/x-recordio-protobuf",
                 ct ? ct : "");
        return send_error(c, 415, "unsupported media type", msg, NULL, NULL);
    }
    const char *acc = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    if (!response_parse_accept(acc, &r->fmt)) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "unsupported Accept '%.60s': use application/json, application/jsonlines, "
                 "application/x-recordio-protobuf or text/csv",
                 acc);
        return send_error(c, 406, "not acceptable", msg, NULL, NULL);
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (errno || end == cl || *end || n > s->o.max_payload) {
            /* a client that did not wait for 100-continue is sending the body now: read and
             * drop it (up to a bound) so it reads the 413 instead of a broken pipe, as nginx
             * does; one that asked first, or a body past the bound, is answered at once */
            const char *ex = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Expect");
            uint64_t drain = (uint64_t)s->o.max_payload * 4;
            if (drain < ((uint64_t)32 << 20))
                drain = (uint64_t)32 << 20;
            if (!errno && end != cl && !*end && !ex && n <= drain) {
                r->too_big = 1;
                r->route = R_INVOKE;
                return MHD_YES;
            }
            char msg[160];
            snprintf(msg, sizeof msg, "the request body of %.30s bytes exceeds the limit of %zu",
                     cl, s->o.max_payload);
            return send_error(c, 413, "payload too large", msg, NULL, NULL);
        }
        if (n && !body_room(s, r, (size_t)n))
            return send_error(c, 503, "out of memory", "no memory for the body", NULL, NULL);
    }
    r->route = R_INVOKE;
    return MHD_YES;
}

/* The answer to anything but POST /invocations. */
static enum MHD_Result answer_other(ll_server *s, struct MHD_Connection *c, const char *url, req *r)
{
    switch (r->route) {
    case R_PING:
        return send_bytes(c, 200, NULL, "", 0);
    case R_EXEC:
        return send_bytes(c, 200, "application/json", s->exec_params, strlen(s->exec_params));
    case R_BAD_METHOD: {
        char msg[96];
        snprintf(msg, sizeof msg, "use %s %.40s", strcmp(url, "/invocations") ? "GET" : "POST",
                 url);
        return send_error_allow(c, 405, "method not allowed", msg, NULL, NULL, allowed(url));
    }
    default:
        return send_error(c, 404, "not found",
                          "the paths are /ping, /invocations and /execution-parameters", NULL,
                          NULL);
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    ll_server *s = cls;
    req *r = *con_cls;
    if (!r) {
        r = mem_calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        r->k = ci ? ci->socket_context : NULL;
        if (r->k) {
            pthread_mutex_lock(&s->cmu);
            r->k->in_head = 0; /* the head is in: the body has the idle timeout */
            pthread_mutex_unlock(&s->cmu);
            r->body = r->k->body;
            r->cap = r->k->body_cap;
        }
        *con_cls = r;
        pthread_mutex_lock(&s->mu);
        s->in_flight++;
        pthread_mutex_unlock(&s->mu);
        return first_call(s, c, url, method, r);
    }
    size_t n = *upload_data_size;
    if (r->route != R_INVOKE) {
        if (r->route == R_NONE) /* already answered */
            return MHD_YES;
        if (n) {
            *upload_data_size = 0; /* a body nobody asked for: dropped */
            return MHD_YES;
        }
        enum MHD_Result ok = answer_other(s, c, url, r);
        r->route = R_NONE;
        return ok;
    }
    if (n) {
        *upload_data_size = 0;
        if (r->too_big)
            return MHD_YES;
        if (n > s->o.max_payload - r->len) {
            r->too_big = 1; /* keep draining, answer 413 at the end */
            r->len = 0;
            return MHD_YES;
        }
        if (r->len + n > r->cap) {
            size_t nc = r->cap ? r->cap : 65536;
            while (nc < r->len + n)
                nc *= 2;
            if (nc > s->o.max_payload)
                nc = s->o.max_payload;
            if (!body_room(s, r, nc))
                return MHD_NO;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        return MHD_YES;
    }
    r->route = R_NONE;
    return invoke(s, c, r);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    ll_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn *k = mem_calloc(1, sizeof(conn)); /* NULL: requests own their buffers */
        *socket_context = k;
        __atomic_fetch_add(&s->reuse.conn_new, 1, __ATOMIC_RELAXED);
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (k && ci) {
            k->fd = ci->connect_fd;
            k->in_head = 1;
            k->deadline_ms = mono_ms() + 1e3 * s->o.header_timeout_s;
            pthread_mutex_lock(&s->cmu);
            for (size_t i = 0; i < s->n_handed; i++)
                if (s->handed[i].fd == k->fd) { /* the deadline counts from the accept */
                    k->deadline_ms = s->handed[i].deadline_ms;
                    s->handed[i] = s->handed[--s->n_handed];
                    break;
                }
            k->next = s->conns;
            if (s->conns)
                s->conns->prev = k;
            s->conns = k;
            pthread_mutex_unlock(&s->cmu);
        } else if (k) {
            k->fd = -1;
        }
        return;
    }
    conn *k = *socket_context;
    if (k) {
        /* unlinked before libmicrohttpd closes the socket: the reaper never touches a closed
         * (or reused) descriptor */
        pthread_mutex_lock(&s->cmu);
        if (k->fd >= 0) {
            if (k->prev)
                k->prev->next = k->next;
            else if (s->conns == k)
                s->conns = k->next;
            if (k->next)
                k->next->prev = k->prev;
        }
        pthread_mutex_unlock(&s->cmu);
        mem_free(k->body);
        response_buf_deinit(&k->out);
        mem_free(k);
        *socket_context = NULL;
    }
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    ll_server *s = cls;
    req *r = *con_cls;
    if (!r)
        return;
    conn *k = r->k;
    if (!k) {
        mem_free(r->body);
    } else {
        /* the next request's head on a kept-alive connection: the idle timeout's allowance */
        pthread_mutex_lock(&s->cmu);
        k->in_head = 1;
        k->deadline_ms = mono_ms() + 1e3 * s->o.timeout_s;
        pthread_mutex_unlock(&s->cmu);
        /* the response is sent (or the connection is going): trim what a big request left */
        if (k->body_cap > CONN_KEEP_BYTES) {
            mem_free(k->body);
            k->body = NULL;
            k->body_cap = 0;
        }
        if (k->out.cap > CONN_KEEP_BYTES)
            response_buf_deinit(&k->out);
    }
    mem_free(r);
    *con_cls = NULL;
    pthread_mutex_lock(&s->mu);
    s->in_flight--;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        s->served++;
    if (s->in_flight == 0)
        pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
}

/* Closes (shutdown: libmicrohttpd then sees the end and cleans up) every connection whose
 * request head is past its deadline, so slow clients cannot hold every slot. */
static void *reaper(void *arg)
{
    ll_server *s = arg;
    for (;;) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (__atomic_load_n(&s->reaper_stop, __ATOMIC_ACQUIRE))
            return NULL;
        double now = mono_ms();
        pthread_mutex_lock(&s->cmu);
        for (conn *k = s->conns; k; k = k->next)
            if (k->in_head && now > k->deadline_ms) {
                shutdown(k->fd, SHUT_RDWR);
                k->in_head = 0;
            }
        pthread_mutex_unlock(&s->cmu);
    }
}

/* The gate passed a connection on (its thread): hand it to libmicrohttpd, noting its header
 * deadline for on_connection. */
static void on_pass(void *cls, int fd, const struct sockaddr *a, socklen_t alen, double accepted_ms)
{
    ll_server *s = cls;
    pthread_mutex_lock(&s->cmu);
    if (s->n_handed == s->cap_handed) {
        size_t nc = s->cap_handed ? s->cap_handed * 2 : 16;
        struct handed *h = mem_realloc(s->handed, nc * sizeof *h);
        if (h) {
            s->handed = h;
            s->cap_handed = nc;
        }
    }
    if (s->n_handed < s->cap_handed) {
        s->handed[s->n_handed].fd = fd;
        s->handed[s->n_handed].deadline_ms = accepted_ms + 1e3 * s->o.header_timeout_s;
        s->n_handed++;
    }
    pthread_mutex_unlock(&s->cmu);
    if (MHD_add_connection(s->d, fd, a, alen) != MHD_YES) { /* it closed fd */
        pthread_mutex_lock(&s->cmu);
        for (size_t i = 0; i < s->n_handed; i++)
            if (s->handed[i].fd == fd) {
                s->handed[i] = s->handed[--s->n_handed];
                break;
            }
        pthread_mutex_unlock(&s->cmu);
    }
}

ll_code ll_server_start(const ll_model *m, const ll_serve_opts *o, ll_server **out, ll_err *err)
{
    *out = NULL;
    if (!m)
        return err_set(err, LL_E_ARG, "no model to serve");
    ll_server *s = mem_calloc(1, sizeof *s);
    if (!s)
        return err_set(err, LL_E_NOMEM, "out of memory");
    if (o)
        s->o = *o;
    else
        ll_serve_opts_init(&s->o);
    if (!s->o.threads)
        s->o.threads = 1;
    if (!s->o.max_payload)
        s->o.max_payload = (size_t)6 << 20;
    if (!s->o.batch_rows)
        s->o.batch_rows = 1000;
    if (!s->o.timeout_s)
        s->o.timeout_s = 60;
    if (!s->o.header_timeout_s || s->o.header_timeout_s > s->o.timeout_s)
        s->o.header_timeout_s = s->o.header_timeout_s ? s->o.timeout_s : 10;
    if (s->o.header_timeout_s > s->o.timeout_s)
        s->o.header_timeout_s = s->o.timeout_s;
    snprintf(s->host, sizeof s->host, "%s", s->o.host ? s->o.host : "127.0.0.1");
    if (!strcmp(s->host, "localhost"))
        strcpy(s->host, "127.0.0.1");
    s->o.host = s->host;
    s->m = m;
    snprintf(s->exec_params, sizeof s->exec_params,
             "{\"MaxConcurrentTransforms\": %u, \"BatchStrategy\": \"MULTI_RECORD\", "
             "\"MaxPayloadInMB\": %zu}",
             s->o.max_concurrent_transforms ? s->o.max_concurrent_transforms : 8,
             (s->o.max_payload + (1 << 20) - 1) >> 20);
    s->cap_pool = (size_t)s->o.threads * 2;
    s->pool = mem_calloc(s->cap_pool, sizeof *s->pool);
    if (!s->pool) {
        mem_free(s);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->idle, NULL);
    pthread_mutex_init(&s->cmu, NULL);

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t sl;
    if (strchr(s->host, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(s->o.port);
        if (inet_pton(AF_INET6, s->host, &a6->sin6_addr) != 1)
            goto bad_host;
        sl = sizeof *a6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons(s->o.port);
        if (inet_pton(AF_INET, s->host, &a4->sin_addr) != 1)
            goto bad_host;
        sl = sizeof *a4;
    }
    /* libmicrohttpd gets no socket of its own: the gate accepts and hands connections over */
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET;
    errno = 0;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_THREAD_POOL_SIZE,
                            (unsigned int)s->o.threads, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned int)s->o.timeout_s, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned int)4096, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_END);
    ll_code grc = LL_E_IO;
    if (s->d)
        grc = gate_start((struct sockaddr *)&ss, sl, 1000 * s->o.header_timeout_s, 4096, on_pass, s,
                         &s->g, err);
    if (grc != LL_OK) {
        int e = errno;
        if (grc == LL_E_IO) {
            err_set(err, LL_E_IO, "cannot listen on %s:%u: %s", s->host, (unsigned)s->o.port,
                    e ? strerror(e) : "libmicrohttpd refused the settings");
            if (err)
                err->sys_errno = e;
        }
        ll_server_stop(s, 0);
        return grc;
    }
    s->port = gate_port(s->g);
    s->reaper_on = pthread_create(&s->reaper, NULL, reaper, s) == 0;
    *out = s;
    return LL_OK;
bad_host:
    err_set(err, LL_E_ARG, "'%s' is not an IPv4 or IPv6 address", s->host);
    ll_server_stop(s, 0);
    return LL_E_ARG;
}

uint16_t ll_server_port(const ll_server *s)
{
    return s->port;
}

void serve_reuse_stats(const ll_server *s, serve_reuse *out)
{
    out->work_new = __atomic_load_n(&s->reuse.work_new, __ATOMIC_RELAXED);
    out->work_reused = __atomic_load_n(&s->reuse.work_reused, __ATOMIC_RELAXED);
    out->conn_new = __atomic_load_n(&s->reuse.conn_new, __ATOMIC_RELAXED);
    out->body_allocs = __atomic_load_n(&s->reuse.body_allocs, __ATOMIC_RELAXED);
    out->bad_lines = s->g ? gate_refused(s->g) : 0;
}

void ll_server_stats(const ll_server *s, uint64_t *served, unsigned *in_flight)
{
    ll_server *w = (ll_server *)s;
    pthread_mutex_lock(&w->mu);
    if (served)
        *served = s->served;
    if (in_flight)
        *in_flight = s->in_flight;
    pthread_mutex_unlock(&w->mu);
}

void ll_server_stop(ll_server *s, unsigned grace_ms)
{
    if (!s)
        return;
    gate_stop(s->g); /* no new connections; those still at their first line are closed */
    s->g = NULL;
    if (s->d) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += grace_ms / 1000;
        dl.tv_nsec += (long)(grace_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&s->mu);
        while (s->in_flight > 0)
            if (pthread_cond_timedwait(&s->idle, &s->mu, &dl) != 0)
                break;
        pthread_mutex_unlock(&s->mu);
        MHD_stop_daemon(s->d);
    }
    if (s->reaper_on) {
        __atomic_store_n(&s->reaper_stop, 1, __ATOMIC_RELEASE);
        pthread_join(s->reaper, NULL);
    }
    for (size_t i = 0; i < s->n_pool; i++) {
        serve_work_deinit(s->pool[i]);
        mem_free(s->pool[i]);
    }
    mem_free(s->pool);
    mem_free(s->handed);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->cmu);
    mem_free(s);
}
