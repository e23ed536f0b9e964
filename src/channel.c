/* SPDX-License-Identifier: Apache-2.0 */
/*
 * channel.c - passes over a training channel: re-opening a File-mode source, or waiting for and
 * opening the next Pipe-mode FIFO "<src>_<n>"; a prefetch thread parses each pass ahead.
 */
#include "channel.h"
#include "err.h"
#include "mem.h"
#include "rd_net.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

ll_code channel_init(chan *c, const char *name, const char *src, const ll_parse_opts *po, int pipe,
                     unsigned timeout_ms, ll_err *err)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->po = *po;
    c->po.finite = 1; /* training refuses NaN and infinity (docs/RELIABILITY.md) */
    c->pipe = pipe;
    c->timeout_ms = timeout_ms;
    c->src = mem_strdup(src);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    for (int i = 0; i < CHAN_RING; i++)
        ll_batch_init(&c->ring[i]);
    return c->src ? LL_OK : err_set(err, LL_E_NOMEM, "out of memory");
}

static void *producer(void *arg)
{
    chan *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (!c->stop && c->full[c->tail])
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop) {
            pthread_mutex_unlock(&c->mu);
            return NULL;
        }
        unsigned slot = c->tail;
        pthread_mutex_unlock(&c->mu);
        int eof = 0;
        ll_err e;
        memset(&e, 0, sizeof e);
        ll_code rc = ll_parser_next(c->p, &c->ring[slot], c->max_rows, &eof, &e);
        pthread_mutex_lock(&c->mu);
        c->rc[slot] = rc;
        c->last[slot] = eof || rc != LL_OK;
        if (rc != LL_OK)
            c->perr = e;
        c->full[slot] = 1;
        c->tail = (slot + 1) % CHAN_RING;
        pthread_cond_broadcast(&c->cv);
        pthread_mutex_unlock(&c->mu);
        if (eof || rc != LL_OK)
            return NULL;
    }
}

static void stop_producer(chan *c)
{
    if (!c->running)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    c->running = 0;
}

void channel_close_pass(chan *c)
{
    stop_producer(c);
    ll_parser_free(c->p);
    ll_reader_free(c->rd);
    c->p = NULL;
    c->rd = NULL;
}

void channel_deinit(chan *c)
{
    channel_close_pass(c);
    for (int i = 0; i < CHAN_RING; i++)
        ll_batch_deinit(&c->ring[i]);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    mem_free(c->src);
    memset(c, 0, sizeof *c);
}

static ll_code wait_for(const char *path, unsigned timeout_ms, const volatile int *stop,
                        ll_err *err)
{
    struct stat st;
    unsigned waited = 0;
    while (stat(path, &st) != 0) {
        if (stop && __atomic_load_n(stop, __ATOMIC_ACQUIRE))
            return err_set(err, LL_E_STATE, "stopped while waiting for a Pipe-mode FIFO"),
                   err_src(err, path);
        if (errno != ENOENT)
            return err_sys(err, path, "cannot reach the Pipe-mode FIFO");
        if (waited >= timeout_ms) {
            err_set(err, LL_E_IO, "Pipe-mode FIFO did not appear within %u ms", timeout_ms);
            err_src(err, path);
            return LL_E_IO;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        waited += 10;
    }
    return LL_OK;
}

ll_code channel_open_pass(chan *c, ll_err *err)
{
    channel_close_pass(c);
    c->rows = 0;
    char path[4200];
    const char *src = c->src;
    if (c->pipe) {
        snprintf(path, sizeof path, "%s_%u", c->src, c->next);
        ll_code rc = wait_for(path, c->timeout_ms, c->halt, err);
        if (rc != LL_OK)
            return rc;
        src = path;
    }
    c->next++;
    ll_parse_opts po = c->po;
    if (po.format == LL_FMT_AUTO && c->pipe)
        po.format = ll_format_from_path(c->src);
    ll_code rc;
    /* CompressionType Gzip: File-mode data must be gzip (sources' rd_gz); a Pipe-mode FIFO may
     * carry data the platform already inflated, so there gzip is inflated when it starts with
     * 1F 8B, as every source is by default */
    if ((c->gzip || c->shard_count > 1) && !c->pipe) {
        ll_source_opts so = *s3_defaults();
        if (c->gzip)
            so.compression = LL_COMPRESSION_GZIP;
        so.shard_index = c->shard_index;
        so.shard_count = c->shard_count;
        rc = ll_reader_open_ex(src, &so, &c->rd, err);
    } else if (c->pipe) {
        /* never blocks: a FIFO without a writer, or whose writer is silent, fails after the
         * pipe timeout, and a stop (SIGTERM) ends the wait */
        ll_source_opts so;
        ll_source_opts_init(&so);
        ll_reader *f = NULL;
        rc = rd_fifo_open(src, c->timeout_ms, c->halt, &f, err);
        if (rc == LL_OK)
            rc = rd_gz_wrap(f, so.compression, &c->rd, err);
    } else
        rc = ll_reader_open(src, &c->rd, err);
    if (rc == LL_OK)
        rc = ll_parser_new(c->rd, &po, &c->p, err);
    if (rc != LL_OK)
        channel_close_pass(c);
    return rc;
}

ll_code channel_next(chan *c, ll_batch *b, size_t max_rows, int *eof, ll_err *err)
{
    if (!c->running) {
        if (!c->p)
            return err_set(err, LL_E_ARG, "channel %s has no open pass", c->name);
        memset(c->full, 0, sizeof c->full);
        c->head = c->tail = 0;
        c->stop = 0;
        c->max_rows = max_rows;
        if (pthread_create(&c->th, NULL, producer, c) != 0)
            return err_set(err, LL_E_NOMEM, "cannot start the prefetch thread");
        c->running = 1;
    }
    pthread_mutex_lock(&c->mu);
    while (!c->full[c->head])
        pthread_cond_wait(&c->cv, &c->mu);
    unsigned slot = c->head;
    ll_batch t = *b;
    *b = c->ring[slot];
    c->ring[slot] = t;
    ll_code rc = c->rc[slot];
    *eof = c->last[slot] && rc == LL_OK;
    if (rc != LL_OK && err)
        *err = c->perr;
    if (!c->last[slot]) { /* the slot is free again; after the last one nothing is parsed */
        c->full[slot] = 0;
        c->head = (slot + 1) % CHAN_RING;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    if (rc == LL_OK)
        c->rows += b->n_rows;
    return rc;
}

ll_code channel_count_objects(const char *src, uint64_t *n, ll_err *err)
{
    const ll_source_opts *o = s3_defaults();
    *n = 1;
    if (strcmp(src, "-") == 0 || !rd_multi_wants(src, o))
        return LL_OK;
    rd_list l;
    memset(&l, 0, sizeof l);
    ll_code rc = rd_list_build(src, o, &l, err);
    if (rc == LL_OK)
        *n = l.n;
    rd_list_deinit(&l);
    return rc;
}

int channel_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return 0;
    return 1;
}
