/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parse_mt.c - CSV and LIBSVM parsed on several threads. The caller's thread (the one calling
 * ll_parser_next) cuts the text window into chunks that end at a line end, copies each into one
 * of a fixed number of slots and hands it to the workers (threads - 1 of them: the caller's
 * thread parses chunks too while it waits for the next one in order); a worker runs the chunk
 * parser of the format over the whole chunk into the slot's own batch, counting lines from 1 and
 * LIBSVM's running dimension from 0. The caller takes the slots back strictly in input order,
 * copies their rows into the batch it was asked to fill (adding the line numbers and dimensions of
 * the chunks before), so the rows, their order, the batch boundaries and every message are those of
 * the one-thread path. A chunk that fails is parsed again on the caller's thread with the true
 * position, which gives exactly the one-thread message; the first failing chunk in input order
 * is the one reported, after the rows before it.
 *
 * Where a chunk boundary cannot be known without parsing everything before it, the rest of the
 * input goes back to the one-thread path (parse.c): a CSV holding a '"' (a quoted field may
 * hold a newline), or a line longer than the window may grow to (max_record_len, which the
 * one-thread path then reports). The CSV settings that the first rows decide (delimiter, header,
 * width) are decided by the one-thread path before chunks start.
 */
#include "parse_mt.h"
#include "batch.h"
#include "err.h"
#include "mem.h"
#include <pthread.h>
#include <string.h>
#include <unistd.h>

enum { S_FREE = 0, S_READY, S_BUSY, S_DONE };

typedef struct slot {
    int state;
    char *buf;
    size_t len, cap;
    int last;      /* the chunk ends the source (a final line without newline is complete) */
    uint64_t off;  /* source offset of buf[0] */
    text_state ts; /* the worker's: settings copied from the stream, line from 1 */
    ll_batch b;    /* the chunk's rows */
    size_t taken;  /* rows already copied out */
    ll_code rc;    /* the worker's result (a failure is re-parsed for its message) */
    size_t used;   /* bytes the worker consumed */
} slot;

struct pmt {
    rd_buf *tb;     /* the parser's window (borrowed) */
    text_state *ts; /* the parser's state: the true position (borrowed) */
    text_parse_fn fn;
    size_t chunk;
    unsigned n_threads, n_slots;
    pthread_t *th;
    unsigned started;
    slot *s;
    unsigned head, tail, inflight; /* next slot to take back / to fill; slots in use */
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    int stop;
    int csv;
    int in_done;   /* no more chunks: the input ended, or... */
    int seq;       /* ... the rest goes to the one-thread path */
    ll_code in_rc; /* a read error, delivered after the chunks before it */
    ll_err in_err;
    ll_code fail_rc; /* a chunk failed: every later call returns it */
    ll_err fail_err;
};

/* The earliest chunk waiting for a parser (m->mu held), or NULL. */
static slot *ready_slot(pmt *m)
{
    for (unsigned k = 0, i = m->head; k < m->inflight; k++, i = (i + 1) % m->n_slots)
        if (m->s[i].state == S_READY)
            return &m->s[i];
    return NULL;
}

/* Parses slot s, taken (S_BUSY) under m->mu; called and returning with m->mu held. */
static void parse_slot(pmt *m, slot *s)
{
    s->state = S_BUSY;
    pthread_mutex_unlock(&m->mu);
    ll_err e;
    ll_batch_clear(&s->b);
    s->used = 0;
    s->rc = m->fn(&s->ts, s->buf, s->len, s->last, (size_t)-1, &s->b, &s->used, &e);
    pthread_mutex_lock(&m->mu);
    s->state = S_DONE;
    pthread_cond_broadcast(&m->done);
}

static void *worker(void *arg)
{
    pmt *m = arg;
    pthread_mutex_lock(&m->mu);
    for (;;) {
        slot *s = NULL;
        while (!m->stop && !(s = ready_slot(m)))
            pthread_cond_wait(&m->work, &m->mu);
        if (m->stop)
            break;
        parse_slot(m, s);
    }
    pthread_mutex_unlock(&m->mu);
    return NULL;
}

static unsigned cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

ll_code pmt_new(rd_buf *tb, text_state *ts, text_parse_fn fn, int csv, uint64_t threads,
                uint64_t chunk, pmt **out, ll_err *err)
{
    *out = NULL;
    pmt *m = mem_calloc(1, sizeof *m);
    if (!m)
        return err_set(err, LL_E_NOMEM, "out of memory");
    m->tb = tb;
    m->ts = ts;
    m->fn = fn;
    m->csv = csv;
    /* the caller's thread is one of the parsers: it parses chunks while it waits for one */
    unsigned n = threads ? (threads > 256 ? 256 : (unsigned)threads) : cores();
    m->n_threads = n > 1 ? n - 1 : 1;
    m->chunk = chunk ? (size_t)chunk : PMT_CHUNK_DEFAULT;
    if (m->chunk > tb->max / 2)
        m->chunk = tb->max / 2 ? tb->max / 2 : 1;
    m->n_slots = 2 * n + 1;
    m->s = mem_calloc(m->n_slots, sizeof *m->s);
    m->th = mem_calloc(m->n_threads, sizeof *m->th);
    if (!m->s || !m->th) {
        mem_free(m->s);
        mem_free(m->th);
        mem_free(m);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    for (unsigned i = 0; i < m->n_slots; i++) {
        text_state_init(&m->s[i].ts, ts->o, ts->src);
        ll_batch_init(&m->s[i].b);
    }
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->work, NULL);
    pthread_cond_init(&m->done, NULL);
    for (; m->started < m->n_threads; m->started++)
        if (pthread_create(&m->th[m->started], NULL, worker, m) != 0)
            break;
    if (m->started == 0) {
        pmt_free(m);
        return err_set(err, LL_E_NOMEM, "cannot start a parsing thread");
    }
    *out = m;
    return LL_OK;
}

void pmt_free(pmt *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    m->stop = 1;
    pthread_cond_broadcast(&m->work);
    pthread_mutex_unlock(&m->mu);
    for (unsigned i = 0; i < m->started; i++)
        pthread_join(m->th[i], NULL);
    for (unsigned i = 0; i < m->n_slots; i++) {
        text_state_deinit(&m->s[i].ts);
        ll_batch_deinit(&m->s[i].b);
        mem_free(m->s[i].buf);
    }
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->work);
    pthread_cond_destroy(&m->done);
    mem_free(m->s);
    mem_free(m->th);
    mem_free(m);
}

/* Cuts the next chunk from the window into slot s. Returns 1 when a chunk is ready, 0 when
 * none comes (m->in_done is then set, with m->seq when the rest is the one-thread path's). */
static int cut(pmt *m, slot *s)
{
    rd_buf *tb = m->tb;
    ll_code rc = rd_buf_fill(tb, m->chunk, &m->in_err);
    if (rc != LL_OK) {
        m->in_rc = rc;
        m->in_done = 1;
        return 0;
    }
    size_t avail, take;
    const char *p;
    int last = 0;
    for (;;) {
        avail = rd_buf_avail(tb);
        p = (const char *)tb->p + tb->beg;
        if (avail == 0) {
            m->in_done = 1;
            return 0;
        }
        if (tb->eof && avail <= m->chunk) {
            take = avail;
            last = 1;
            break;
        }
        size_t look = avail < m->chunk ? avail : m->chunk;
        const char *nl = memrchr(p, '\n', look);
        if (!nl) /* a line longer than the chunk: a longer chunk */
            nl = memchr(p + look, '\n', avail - look);
        if (nl) {
            take = (size_t)(nl - p) + 1;
            break;
        }
        if (tb->eof) { /* the rest is one line */
            take = avail;
            last = 1;
            break;
        }
        if (avail >= tb->max) { /* longer than the window: the one-thread path reports it */
            m->in_done = m->seq = 1;
            return 0;
        }
        rc = rd_buf_fill(tb, avail > tb->max / 2 ? tb->max : 2 * avail, &m->in_err);
        if (rc != LL_OK) {
            m->in_rc = rc;
            m->in_done = 1;
            return 0;
        }
    }
    if (m->csv && memchr(p, '"', take)) { /* quotes may hold newlines */
        m->in_done = m->seq = 1;
        return 0;
    }
    if (take > s->cap) {
        char *nb = mem_realloc(s->buf, take);
        if (!nb) {
            m->in_rc = err_set(&m->in_err, LL_E_NOMEM, "out of memory for a chunk of text");
            m->in_done = 1;
            return 0;
        }
        s->buf = nb;
        s->cap = take;
    }
    memcpy(s->buf, p, take);
    s->len = take;
    s->last = last;
    s->off = rd_buf_pos(tb);
    s->taken = 0;
    tb->beg += take;
    /* the settings the stream decided, the position from the chunk's start */
    s->ts.delim = m->ts->delim;
    s->ts.header_done = m->ts->header_done;
    s->ts.n_fields = m->ts->n_fields;
    s->ts.offset = s->off;
    s->ts.line = 1;
    s->ts.max_dim = 0;
    return 1;
}

/* The head slot failed: parses it again on this thread from the true position, which yields
 * the one-thread message. */
static ll_code reparse(pmt *m, slot *s, ll_err *err)
{
    text_state t;
    text_state_init(&t, m->ts->o, m->ts->src);
    t.delim = m->ts->delim;
    t.header_done = m->ts->header_done;
    t.n_fields = m->ts->n_fields;
    t.offset = s->off;
    t.line = m->ts->line;
    t.max_dim = m->ts->max_dim;
    ll_batch b;
    ll_batch_init(&b);
    size_t used = 0;
    ll_code rc = m->fn(&t, s->buf, s->len, s->last, (size_t)-1, &b, &used, err);
    if (rc == LL_OK)
        rc = err_set(err, LL_E_STATE,
                     "internal: a chunk of %zu bytes at byte %llu parsed in part (%zu bytes)",
                     s->len, (unsigned long long)s->off, used);
    ll_batch_deinit(&b);
    text_state_deinit(&t);
    return rc;
}

ll_code pmt_next(pmt *m, ll_batch *b, size_t max_rows, int *eof, int *seq, ll_err *err)
{
    *eof = *seq = 0;
    if (m->fail_rc != LL_OK) {
        if (err)
            *err = m->fail_err;
        return m->fail_rc;
    }
    for (;;) {
        /* keep every slot busy */
        while (!m->in_done && m->inflight < m->n_slots) {
            slot *s = &m->s[m->tail];
            if (!cut(m, s))
                break;
            pthread_mutex_lock(&m->mu);
            s->state = S_READY;
            m->tail = (m->tail + 1) % m->n_slots;
            m->inflight++;
            pthread_cond_signal(&m->work);
            pthread_mutex_unlock(&m->mu);
        }
        if (b->n_rows >= max_rows)
            return LL_OK;
        if (m->inflight == 0) {
            if (m->in_rc != LL_OK) {
                m->fail_rc = m->in_rc;
                m->fail_err = m->in_err;
                if (err)
                    *err = m->in_err;
                return m->in_rc;
            }
            if (m->seq)
                *seq = 1;
            else
                *eof = 1;
            return LL_OK;
        }
        slot *s = &m->s[m->head];
        pthread_mutex_lock(&m->mu);
        while (s->state != S_DONE) { /* the caller's thread parses too while it waits */
            slot *r = ready_slot(m);
            if (r)
                parse_slot(m, r);
            else
                pthread_cond_wait(&m->done, &m->mu);
        }
        pthread_mutex_unlock(&m->mu);
        if ((s->rc != LL_OK || s->used != s->len) && s->taken == s->b.n_rows) {
            /* the rows before the failure are delivered first, as on one thread */
            m->fail_rc = reparse(m, s, &m->fail_err);
            if (err)
                *err = m->fail_err;
            return m->fail_rc;
        }
        size_t to = s->b.n_rows;
        if (to - s->taken > max_rows - b->n_rows)
            to = s->taken + (max_rows - b->n_rows);
        ll_code rc =
            batch_append_rows(b, &s->b, s->taken, to, m->ts->line - 1, m->ts->max_dim, err);
        if (rc != LL_OK)
            return rc;
        s->taken = to;
        if (s->taken == s->b.n_rows && s->rc == LL_OK &&
            s->used == s->len) { /* the chunk is delivered: the true position moves on */
            m->ts->offset += s->len;
            m->ts->line += s->ts.line - 1;
            if (s->ts.max_dim > m->ts->max_dim)
                m->ts->max_dim = s->ts.max_dim;
            pthread_mutex_lock(&m->mu);
            s->state = S_FREE;
            m->head = (m->head + 1) % m->n_slots;
            m->inflight--;
            pthread_mutex_unlock(&m->mu);
        }
    }
}
