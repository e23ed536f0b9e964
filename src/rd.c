/* SPDX-License-Identifier: Apache-2.0 */
/* rd.c - the reader interface (ll_reader_read and friends), the memory backend and the rd_buf
 * window. Opening a source by name is source.c's. */
#include "rd.h"
#include "err.h"
#include "mem.h"
#include <stdio.h>
#include <string.h>

void rd_init(ll_reader *r, const char *name)
{
    r->offset = 0;
    ll_redact(name ? name : "?", r->name, sizeof r->name); /* names appear in messages */
}

ll_code ll_reader_read(ll_reader *r, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    *n = 0;
    *eof = 0;
    ll_code rc = r->read(r, buf, cap, n, eof, err);
    if (rc != LL_OK) {
        err_src(err, r->name);
        return rc;
    }
    r->offset += *n;
    return LL_OK;
}

const char *ll_reader_name(const ll_reader *r)
{
    return r->name;
}

uint64_t ll_reader_offset(const ll_reader *r)
{
    return r->offset;
}

void ll_reader_free(ll_reader *r)
{
    if (r)
        r->close(r);
}

ll_code rd_rewind(ll_reader *r, ll_err *err)
{
    if (!r->rewind)
        return err_set(err, LL_E_STATE, "%s cannot be read twice (a pipe or stream)", r->name);
    ll_code rc = r->rewind(r, err);
    if (rc == LL_OK)
        r->offset = 0;
    return rc;
}

/* ---- memory backend ---- */

typedef struct {
    ll_reader r;
    const uint8_t *data;
    size_t len, pos;
} rd_mem;

static ll_code mem_read(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    (void)err;
    rd_mem *m = (rd_mem *)self;
    size_t k = m->len - m->pos;
    if (k > cap)
        k = cap;
    if (k == 0) {
        *eof = 1;
        return LL_OK;
    }
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    *n = k;
    return LL_OK;
}

static ll_code mem_rewind(ll_reader *self, ll_err *err)
{
    (void)err;
    ((rd_mem *)self)->pos = 0;
    return LL_OK;
}

static void mem_close(ll_reader *self)
{
    mem_free(self);
}

ll_reader *ll_reader_mem(const void *data, size_t len, const char *name)
{
    rd_mem *m = mem_calloc(1, sizeof *m);
    if (!m)
        return NULL;
    rd_init(&m->r, name ? name : "memory");
    m->r.read = mem_read;
    m->r.rewind = mem_rewind;
    m->r.close = mem_close;
    m->data = data;
    m->len = len;
    return &m->r;
}

/* ---- rd_buf ---- */

ll_code rd_buf_init(rd_buf *b, ll_reader *rd, size_t cap, size_t max, ll_err *err)
{
    memset(b, 0, sizeof *b);
    if (cap > max)
        cap = max;
    if (cap < 64)
        cap = 64;
    b->p = mem_alloc(cap);
    if (!b->p)
        return err_set(err, LL_E_NOMEM, "cannot allocate a %zu-byte read buffer", cap);
    b->rd = rd;
    b->cap = cap;
    b->max = max < cap ? cap : max;
    return LL_OK;
}

void rd_buf_deinit(rd_buf *b)
{
    mem_free(b->p);
    memset(b, 0, sizeof *b);
}

/* Makes room for at least one more byte after end. */
static ll_code make_room(rd_buf *b, ll_err *err)
{
    if (b->end < b->cap)
        return LL_OK;
    size_t live = b->end - b->beg;
    if (b->beg > 0 && live < b->cap) {
        memmove(b->p, b->p + b->beg, live);
        b->base += b->beg;
        b->beg = 0;
        b->end = live;
        return LL_OK;
    }
    if (live >= b->max)
        return err_set(err, LL_E_TOOBIG, "more than %zu bytes needed at once", b->max);
    size_t ncap = b->cap * 2;
    if (ncap > b->max || ncap < b->cap)
        ncap = b->max;
    uint8_t *np = mem_realloc(b->p, ncap);
    if (!np)
        return err_set(err, LL_E_NOMEM, "cannot grow the read buffer to %zu bytes", ncap);
    b->p = np;
    b->cap = ncap;
    return LL_OK;
}

ll_code rd_buf_more(rd_buf *b, ll_err *err)
{
    if (b->eof)
        return LL_OK;
    /* compact eagerly when more than half of the buffer is consumed */
    if (b->beg > 0 && b->beg >= b->cap / 2) {
        size_t live = b->end - b->beg;
        memmove(b->p, b->p + b->beg, live);
        b->base += b->beg;
        b->beg = 0;
        b->end = live;
    }
    ll_code rc = make_room(b, err);
    if (rc != LL_OK)
        return rc;
    size_t n = 0;
    int eof = 0;
    rc = ll_reader_read(b->rd, b->p + b->end, b->cap - b->end, &n, &eof, err);
    if (rc != LL_OK)
        return rc;
    b->end += n;
    if (eof)
        b->eof = 1;
    return LL_OK;
}

ll_code rd_buf_fill(rd_buf *b, size_t need, ll_err *err)
{
    if (need > b->max)
        return err_set(err, LL_E_TOOBIG, "%zu bytes needed at once; the limit is %zu", need,
                       b->max);
    while (b->end - b->beg < need && !b->eof) {
        if (b->cap - b->beg < need) {
            /* compact, then grow to hold `need` bytes from beg */
            size_t live = b->end - b->beg;
            memmove(b->p, b->p + b->beg, live);
            b->base += b->beg;
            b->beg = 0;
            b->end = live;
            if (b->cap < need) {
                size_t ncap = b->cap;
                while (ncap < need)
                    ncap = ncap * 2 < ncap ? need : ncap * 2;
                if (ncap > b->max)
                    ncap = b->max;
                uint8_t *np = mem_realloc(b->p, ncap);
                if (!np)
                    return err_set(err, LL_E_NOMEM, "cannot grow the read buffer to %zu bytes",
                                   ncap);
                b->p = np;
                b->cap = ncap;
            }
        }
        ll_code rc = rd_buf_more(b, err);
        if (rc != LL_OK)
            return rc;
    }
    return LL_OK;
}
