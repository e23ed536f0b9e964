/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chan.c - passes over a training channel: re-opening a File-mode source, or waiting for and
 * opening the next Pipe-mode FIFO "<src>_<n>".
 */
#include "chan.h"
#include "err.h"
#include "gz.h"
#include "mem.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

ll_code chan_init(chan *c, const char *name, const char *src, const ll_parse_opts *po, int pipe,
                  unsigned timeout_ms, ll_err *err)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->po = *po;
    c->pipe = pipe;
    c->timeout_ms = timeout_ms;
    c->src = mem_strdup(src);
    return c->src ? LL_OK : err_set(err, LL_E_NOMEM, "out of memory");
}

void chan_close_pass(chan *c)
{
    ll_parser_free(c->p);
    ll_reader_free(c->rd);
    c->p = NULL;
    c->rd = NULL;
}

void chan_deinit(chan *c)
{
    chan_close_pass(c);
    mem_free(c->src);
    memset(c, 0, sizeof *c);
}

static ll_code wait_for(const char *path, unsigned timeout_ms, const volatile int *stop,
                        ll_err *err)
{
    struct stat st;
    unsigned waited = 0;
    while (stat(path, &st) != 0) {
        if (stop && *stop)
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

ll_code chan_open_pass(chan *c, ll_err *err)
{
    chan_close_pass(c);
    c->rows = 0;
    char path[4200];
    const char *src = c->src;
    if (c->pipe) {
        snprintf(path, sizeof path, "%s_%u", c->src, c->next);
        ll_code rc = wait_for(path, c->timeout_ms, c->stop, err);
        if (rc != LL_OK)
            return rc;
        src = path;
    }
    c->next++;
    ll_parse_opts po = c->po;
    if (po.format == LL_FMT_AUTO && c->pipe)
        po.format = ll_format_from_path(c->src);
    ll_code rc = ll_reader_open(src, &c->rd, err);
    if (rc == LL_OK && c->gzip) {
        ll_reader *in = c->rd;
        c->rd = NULL;
        rc = gz_wrap(in, &c->rd, err);
    }
    if (rc == LL_OK)
        rc = ll_parser_new(c->rd, &po, &c->p, err);
    if (rc != LL_OK)
        chan_close_pass(c);
    return rc;
}

ll_code chan_next(chan *c, ll_batch *b, size_t max_rows, int *eof, ll_err *err)
{
    ll_code rc = ll_parser_next(c->p, b, max_rows, eof, err);
    if (rc == LL_OK)
        c->rows += b->n_rows;
    return rc;
}
