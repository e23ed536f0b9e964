/* SPDX-License-Identifier: Apache-2.0 */
/* prefetch.c - prefetch: a reader wrapper whose thread reads the inner reader ahead into a bounded
 * queue of chunks, so parsing does not wait on the network while the network keeps up. The
 * queue holds at most max_bytes; an error of the inner reader is delivered after the bytes
 * read before it. The wrapped reader cannot rewind. */
#include "err.h"
#include "mem.h"
#include "rd_net.h"
#include <pthread.h>
#include <string.h>

typedef struct prefetch_chunk {
    struct prefetch_chunk *next;
    size_t len, pos;
    uint8_t data[];
} prefetch_chunk;

typedef struct {
    ll_reader r;
    ll_reader *in;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv_data, cv_space;
    prefetch_chunk *head, *tail;
    size_t bytes, max, chunk;
    int eof, stop, failed;
    ll_err err;
} pf;

static void *prefetch_main(void *arg)
{
    pf *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->bytes + p->chunk > p->max && !p->stop)
            pthread_cond_wait(&p->cv_space, &p->mu);
        int stop = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        prefetch_chunk *c = mem_alloc(sizeof *c + p->chunk);
        ll_err e;
        ll_err_clear(&e);
        int eof = 0;
        ll_code rc = LL_OK;
        if (!c) {
            rc = err_set(&e, LL_E_NOMEM, "out of memory in the prefetch thread");
        } else {
            c->next = NULL;
            c->len = c->pos = 0;
            /* fill at least half a chunk per hand-over, fewer at the end */
            while (c->len < p->chunk / 2 && !eof) {
                size_t n;
                rc = ll_reader_read(p->in, c->data + c->len, p->chunk - c->len, &n, &eof, &e);
                if (rc != LL_OK)
                    break;
                c->len += n;
            }
        }
        pthread_mutex_lock(&p->mu);
        if (c && c->len) {
            if (p->tail)
                p->tail->next = c;
            else
                p->head = c;
            p->tail = c;
            p->bytes += p->chunk;
            c = NULL;
        }
        if (rc != LL_OK) {
            p->failed = 1;
            p->err = e;
        } else if (eof) {
            p->eof = 1;
        }
        int done = p->failed || p->eof;
        pthread_cond_signal(&p->cv_data);
        pthread_mutex_unlock(&p->mu);
        mem_free(c);
        if (done)
            break;
    }
    return NULL;
}

static ll_code prefetch_read(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof,
                             ll_err *err)
{
    pf *p = (pf *)self;
    pthread_mutex_lock(&p->mu);
    while (!p->head && !p->eof && !p->failed)
        pthread_cond_wait(&p->cv_data, &p->mu);
    prefetch_chunk *c = p->head;
    if (c) {
        size_t k = c->len - c->pos;
        if (k > cap)
            k = cap;
        memcpy(buf, c->data + c->pos, k);
        c->pos += k;
        *n = k;
        if (c->pos == c->len) {
            p->head = c->next;
            if (!p->head)
                p->tail = NULL;
            p->bytes -= p->chunk;
            pthread_cond_signal(&p->cv_space);
        } else {
            c = NULL;
        }
        pthread_mutex_unlock(&p->mu);
        if (c)
            mem_free(c);
        return LL_OK;
    }
    ll_code rc = LL_OK;
    if (p->failed) {
        if (err)
            *err = p->err;
        rc = p->err.code ? p->err.code : LL_E_IO;
    } else {
        *eof = 1;
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static void prefetch_close(ll_reader *self)
{
    pf *p = (pf *)self;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_signal(&p->cv_space);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    while (p->head) {
        prefetch_chunk *c = p->head;
        p->head = c->next;
        mem_free(c);
    }
    ll_reader_free(p->in);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_data);
    pthread_cond_destroy(&p->cv_space);
    mem_free(p);
}

ll_code prefetch_wrap(ll_reader *inner, size_t max_bytes, ll_reader **out, ll_err *err)
{
    *out = NULL;
    pf *p = mem_calloc(1, sizeof *p);
    if (!p) {
        ll_reader_free(inner);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    rd_init(&p->r, inner->name);
    p->r.read = prefetch_read;
    p->r.rewind = NULL;
    p->r.close = prefetch_close;
    p->in = inner;
    p->chunk = (size_t)1 << 20;
    if (max_bytes < 2 * p->chunk)
        p->chunk = max_bytes / 2 < 4096 ? 4096 : max_bytes / 2;
    p->max = max_bytes < 2 * p->chunk ? 2 * p->chunk : max_bytes;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_data, NULL);
    pthread_cond_init(&p->cv_space, NULL);
    if (pthread_create(&p->th, NULL, prefetch_main, p) != 0) {
        p->in = NULL;
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv_data);
        pthread_cond_destroy(&p->cv_space);
        mem_free(p);
        ll_reader_free(inner);
        return err_set(err, LL_E_NOMEM, "cannot start the prefetch thread");
    }
    *out = &p->r;
    return LL_OK;
}
