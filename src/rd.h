/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rd.h - the reader interface (a table of functions, one backend per file) and rd_buf, the
 * buffered window over a reader that every parser uses. Readers move bytes and never
 * interpret them; a reader that cannot rewind (pipe, FIFO, socket) has rewind == NULL.
 */
#ifndef LL_RD_H
#define LL_RD_H
#include "linlearn.h"

struct ll_reader {
    /* Reads up to cap bytes into buf; see ll_reader_read. */
    ll_code (*read)(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof, ll_err *err);
    /* Starts over from the first byte; NULL when the source cannot. */
    ll_code (*rewind)(ll_reader *self, ll_err *err);
    /* Releases the backend's resources and the object itself. */
    void (*close)(ll_reader *self);
    uint64_t offset; /* bytes delivered (maintained by ll_reader_read) */
    char name[128];
};

/* Initialises the common part of a backend object. */
void rd_init(ll_reader *r, const char *name);

/* Backends (rd_file.c). */
ll_code rd_file_open(const char *path, ll_reader **out, ll_err *err);
/* Wraps an open descriptor; takes ownership when own_fd is set. */
ll_code rd_fd_open(int fd, int own_fd, const char *name, ll_reader **out, ll_err *err);

/* Rewinds when the backend can; LL_E_STATE otherwise. */
ll_code rd_rewind(ll_reader *r, ll_err *err);

/*
 * rd_buf: a window [beg, end) over bytes read from a reader. It grows (up to max) when a
 * caller needs more contiguous bytes than it holds, and compacts consumed bytes away.
 * base is the source offset of p[0], so p[i] is byte base + i of the source.
 */
typedef struct rd_buf {
    ll_reader *rd; /* borrowed */
    uint8_t *p;
    size_t beg, end, cap, max;
    uint64_t base;
    int eof;
} rd_buf;

ll_code rd_buf_init(rd_buf *b, ll_reader *rd, size_t cap, size_t max, ll_err *err);
void rd_buf_deinit(rd_buf *b);
/* Ensures at least `need` unconsumed bytes unless the source ends first (then eof is set and
 * fewer are available). LL_E_TOOBIG when need > max. */
ll_code rd_buf_fill(rd_buf *b, size_t need, ll_err *err);
/* Reads at least one more byte into the window (compacting or growing as needed), or sets
 * eof. LL_E_TOOBIG when the window already holds max unconsumed bytes. */
ll_code rd_buf_more(rd_buf *b, ll_err *err);
static inline size_t rd_buf_avail(const rd_buf *b)
{
    return b->end - b->beg;
}
/* Source offset of the first unconsumed byte. */
static inline uint64_t rd_buf_pos(const rd_buf *b)
{
    return b->base + b->beg;
}
#endif
