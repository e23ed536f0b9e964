/* SPDX-License-Identifier: Apache-2.0 */
/* rd_http.c - reader backend for one HTTP(S) or S3 object: a libcurl multi transfer paused
 * whenever the reader's buffer is full, resumed with a Range request after a failure or a cut
 * connection, so the bytes delivered are exactly the object's. Signing is s3.c's. */
#include "err.h"
#include "mem.h"
#include "rd_net.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    ll_reader r;
    CURLM *m;
    CURL *h;
    struct curl_slist *hdrs;
    char *url;
    const s3_cfg *cfg; /* NULL: unsigned HTTP */
    s3_cfg plain;      /* retry settings for plain HTTP */
    char *bucket, *key;
    uint8_t *buf;
    size_t cap, beg, end;
    uint64_t recv_off; /* object offset of the next byte to receive */
    uint64_t size;     /* UINT64_MAX until known */
    uint64_t skip;     /* bytes to drop (a server that ignored Range) */
    uint64_t attempt_bytes;
    char etag[128];
    long status;
    uint64_t range_start; /* from Content-Range of this answer */
    int range_seen;
    int in_flight, done, paused, eof, failures;
    CURLcode cc;
    char *errbody;
    size_t errlen;
} rd_http;

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    rd_http *x = ud;
    size_t n = sz * nm;
    char line[256];
    size_t k = n < sizeof line - 1 ? n : sizeof line - 1;
    memcpy(line, p, k);
    line[k] = 0;
    while (k && (line[k - 1] == '\r' || line[k - 1] == '\n'))
        line[--k] = 0;
    if (strncmp(line, "HTTP/", 5) == 0) {
        x->range_seen = 0;
        x->status = 0;
        const char *sp = strchr(line, ' ');
        if (sp)
            x->status = strtol(sp + 1, NULL, 10);
    } else if (strncasecmp(line, "content-range:", 14) == 0) {
        unsigned long long a, b, t;
        if (sscanf(line + 14, " bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
            x->range_start = a;
            x->range_seen = 1;
            if (x->size == UINT64_MAX)
                x->size = t;
        }
    } else if (strncasecmp(line, "etag:", 5) == 0 && !x->etag[0] && x->status < 300) {
        const char *v = line + 5;
        while (*v == ' ')
            v++;
        snprintf(x->etag, sizeof x->etag, "%.120s", v);
    } else if (strncasecmp(line, "content-length:", 15) == 0 && x->status == 200 &&
               x->recv_off == 0 && x->size == UINT64_MAX) {
        x->size = strtoull(line + 15, NULL, 10);
    }
    return n;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    rd_http *x = ud;
    size_t n = sz * nm;
    if (x->status >= 300 || x->status == 0) {
        size_t keep = n;
        if (x->errlen + keep > 65536)
            keep = 65536 - x->errlen;
        if (keep) {
            char *q = mem_realloc(x->errbody, x->errlen + keep + 1);
            if (!q)
                return 0;
            memcpy(q + x->errlen, p, keep);
            x->errbody = q;
            x->errlen += keep;
            q[x->errlen] = 0;
        }
        return n;
    }
    if (x->status == 206 && x->attempt_bytes == 0 && x->range_seen &&
        x->range_start != x->recv_off) {
        x->status = 599; /* a range we did not ask for: treat as a failed attempt */
        return 0;
    }
    if (x->status == 200 && x->recv_off > 0 && x->skip == 0 && x->attempt_bytes == 0)
        x->skip = x->recv_off; /* the server sent the whole object again */
    size_t drop = 0;
    if (x->skip) {
        drop = x->skip < n ? (size_t)x->skip : n;
        /* count dropped bytes only once they are certainly consumed (not on a pause) */
    }
    size_t rest = n - drop;
    if (x->beg == x->end)
        x->beg = x->end = 0;
    if (rest > x->cap - x->end) {
        if (x->beg > 0) {
            memmove(x->buf, x->buf + x->beg, x->end - x->beg);
            x->end -= x->beg;
            x->beg = 0;
        }
        if (rest > x->cap - x->end) {
            if (x->end == 0) {
                uint8_t *nb = mem_realloc(x->buf, rest);
                if (!nb)
                    return 0;
                x->buf = nb;
                x->cap = rest;
            } else {
                x->paused = 1;
                return CURL_WRITEFUNC_PAUSE;
            }
        }
    }
    x->skip -= drop;
    memcpy(x->buf + x->end, p + drop, rest);
    x->end += rest;
    x->recv_off += rest;
    x->attempt_bytes += n;
    return n;
}

static void stop(rd_http *x)
{
    if (x->h) {
        curl_multi_remove_handle(x->m, x->h);
        curl_easy_cleanup(x->h);
        x->h = NULL;
    }
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    x->in_flight = 0;
}

static ll_code start(rd_http *x, ll_err *err)
{
    stop(x);
    x->h = curl_easy_init();
    if (!x->h)
        return err_set(err, LL_E_NOMEM, "cannot create a curl handle");
    x->status = 0;
    x->range_seen = 0;
    x->done = 0;
    x->paused = 0;
    x->cc = CURLE_OK;
    x->attempt_bytes = 0;
    x->skip = 0;
    mem_free(x->errbody);
    x->errbody = NULL;
    x->errlen = 0;
    CURL *h = x->h;
    curl_easy_setopt(h, CURLOPT_URL, x->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
    const s3_cfg *rc = x->cfg ? x->cfg : &x->plain;
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)rc->stall_timeout_s);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
    if (!x->cfg) {
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    }
    char hv[192];
    if (x->recv_off > 0) {
        snprintf(hv, sizeof hv, "Range: bytes=%llu-", (unsigned long long)x->recv_off);
        x->hdrs = curl_slist_append(x->hdrs, hv);
        if (x->etag[0]) {
            snprintf(hv, sizeof hv, "If-Match: %s", x->etag);
            x->hdrs = curl_slist_append(x->hdrs, hv);
        }
    }
    if (x->cfg) {
        ll_code c = s3_sign(h, x->cfg, &x->hdrs, err);
        if (c != LL_OK)
            return c;
    } else if (x->hdrs) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hdrs);
    }
    if (curl_multi_add_handle(x->m, h) != CURLM_OK)
        return err_set(err, LL_E_NOMEM, "cannot start a transfer");
    x->in_flight = 1;
    int still;
    curl_multi_perform(x->m, &still);
    return LL_OK;
}

/* Drives the transfer; waits up to wait_ms for activity when nothing is buffered. */
static void pump(rd_http *x, int wait_ms)
{
    if (!x->in_flight || x->done)
        return;
    if (x->paused && (x->beg == x->end || x->cap - x->end + x->beg >= 16384)) {
        if (x->beg > 0) {
            memmove(x->buf, x->buf + x->beg, x->end - x->beg);
            x->end -= x->beg;
            x->beg = 0;
        }
        x->paused = 0;
        curl_easy_pause(x->h, CURLPAUSE_CONT);
    }
    int still = 0;
    curl_multi_perform(x->m, &still);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(x->m, &left))) {
        if (msg->msg == CURLMSG_DONE) {
            x->done = 1;
            x->cc = msg->data.result;
        }
    }
    if (!x->done && wait_ms > 0 && x->beg == x->end && !x->paused)
        curl_multi_poll(x->m, NULL, 0, wait_ms, NULL);
}

void rd_http_poke(ll_reader *r);

static ll_code finish_attempt(rd_http *x, ll_err *err)
{
    long st = x->status;
    int ok_status = st == 200 || st == 206;
    int complete = x->size != UINT64_MAX && x->recv_off >= x->size;
    if (x->cc == CURLE_OK && ok_status && (x->size == UINT64_MAX || complete)) {
        stop(x);
        x->eof = 1;
        return LL_OK;
    }
    if (x->cc == CURLE_OK && (st == 416 || st == 200) && complete) {
        stop(x);
        x->eof = 1;
        return LL_OK;
    }
    char code[64] = "", msg[8];
    if (x->errbody)
        s3_error_parse(x->errbody, x->errlen, code, sizeof code, msg, sizeof msg);
    int retry = x->cc != CURLE_OK || ok_status || s3_retryable(st, code);
    if (st == 412) {
        stop(x);
        return err_set(err, LL_E_REMOTE,
                       "the object changed while it was being read (ETag %s no longer matches)",
                       x->etag);
    }
    const s3_cfg *c = x->cfg ? x->cfg : &x->plain;
    if (x->attempt_bytes > 0)
        x->failures = 0;
    if (retry && x->failures < c->max_retries) {
        x->failures++;
        stop(x);
        s3_backoff(c, x->failures);
        return start(x, err);
    }
    ll_code rc;
    if (x->cc != CURLE_OK || ok_status)
        rc = err_set(err, LL_E_REMOTE, "transfer failed at byte %llu after %d retries: %s",
                     (unsigned long long)x->recv_off, x->failures,
                     x->cc != CURLE_OK ? curl_easy_strerror(x->cc) : "connection closed early");
    else if (x->cfg)
        rc = s3_error_set(err, st, x->errbody, x->errlen, x->bucket ? x->bucket : "?", x->key);
    else
        rc = err_set(err, LL_E_REMOTE, "HTTP %ld", st);
    if (err && !x->cfg)
        ll_redact(x->r.name, err->src, sizeof err->src);
    stop(x);
    return rc;
}

static ll_code http_read(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    rd_http *x = (rd_http *)self;
    for (;;) {
        if (x->beg < x->end) {
            size_t k = x->end - x->beg;
            if (k > cap)
                k = cap;
            memcpy(buf, x->buf + x->beg, k);
            x->beg += k;
            *n = k;
            return LL_OK;
        }
        if (x->eof) {
            *eof = 1;
            return LL_OK;
        }
        if (!x->in_flight)
            return err_set(err, LL_E_STATE, "the transfer was stopped after an error");
        if (x->done) {
            ll_code rc = finish_attempt(x, err);
            if (rc != LL_OK)
                return rc;
            continue;
        }
        pump(x, 1000);
    }
}

static void http_close(ll_reader *self)
{
    rd_http *x = (rd_http *)self;
    stop(x);
    if (x->m)
        curl_multi_cleanup(x->m);
    mem_free(x->url);
    mem_free(x->bucket);
    mem_free(x->key);
    mem_free(x->buf);
    mem_free(x->errbody);
    mem_free(x);
}

void rd_http_poke(ll_reader *r)
{
    if (r && r->close == http_close)
        pump((rd_http *)r, 0);
}

/* The URL without user information or query (which may hold credentials or signatures). */
void rd_safe_name(const char *url, char *out, size_t cap)
{
    const char *s = strstr(url, "://");
    if (!s) {
        snprintf(out, cap, "%s", url);
        return;
    }
    const char *host = s ? s + 3 : url;
    const char *at = strchr(host, '@'), *slash = strchr(host, '/');
    if (at && (!slash || at < slash))
        host = at + 1;
    size_t sch = s ? (size_t)(s + 3 - url) : 0;
    size_t hl = strcspn(host, "?#");
    snprintf(out, cap, "%.*s%.*s", (int)sch, url, (int)hl, host);
}

ll_code rd_http_open(const char *url, const s3_cfg *cfg, const s3_cfg *plain, const char *name,
                     const char *bucket, const char *key, uint64_t size, ll_reader **out,
                     ll_err *err)
{
    *out = NULL;
    rd_http *x = mem_calloc(1, sizeof *x);
    if (!x)
        return err_set(err, LL_E_NOMEM, "out of memory");
    char nm[128];
    if (!name) {
        rd_safe_name(url, nm, sizeof nm);
        name = nm;
    }
    rd_init(&x->r, name);
    x->r.read = http_read;
    x->r.rewind = NULL;
    x->r.close = http_close;
    x->cfg = cfg;
    const ll_source_opts *d = s3_defaults();
    x->plain.max_retries = plain ? plain->max_retries : d->max_retries;
    x->plain.retry_base_ms = plain ? plain->retry_base_ms : d->retry_base_ms;
    x->plain.retry_max_ms = plain ? plain->retry_max_ms : d->retry_max_ms;
    x->plain.stall_timeout_s = plain ? plain->stall_timeout_s : d->stall_timeout_s;
    if (!x->plain.retry_base_ms)
        x->plain.retry_base_ms = 1;
    if (!x->plain.retry_max_ms)
        x->plain.retry_max_ms = 1;
    if (!x->plain.stall_timeout_s)
        x->plain.stall_timeout_s = 60;
    x->size = size;
    x->url = mem_strdup(url);
    x->bucket = bucket ? mem_strdup(bucket) : NULL;
    x->key = key ? mem_strdup(key) : NULL;
    x->cap = RD_HTTP_BUF;
    x->buf = mem_alloc(x->cap);
    x->m = curl_multi_init();
    if (!x->url || !x->buf || !x->m || (bucket && !x->bucket) || (key && !x->key)) {
        http_close(&x->r);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    if (size == 0) { /* nothing to fetch (a listed zero-byte object) */
        x->eof = 1;
        *out = &x->r;
        return LL_OK;
    }
    ll_code rc = start(x, err);
    if (rc != LL_OK) {
        http_close(&x->r);
        return rc;
    }
    *out = &x->r;
    return LL_OK;
}
