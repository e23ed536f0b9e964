/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rd_gz.c - CompressionType Gzip: a reader wrapper that looks at the first bytes of its source
 * and, when they are 1F 8B (or when told to), inflates it with zlib, member after member (one
 * gzip member per object of a multi-object source); otherwise it passes the bytes through.
 * Offsets in its errors are offsets in the compressed source.
 */
#include "err.h"
#include "mem.h"
#include "rd_net.h"
#include <string.h>
#include <zlib.h>

#define GZ_IN ((size_t)1 << 16)

enum { GZ_PEEK = 0, GZ_PLAIN = 1, GZ_INFLATE = 2 };

typedef struct {
    ll_reader r;
    ll_reader *in;
    int want;  /* LL_COMPRESSION_* */
    int state; /* GZ_* */
    int z_init, in_eof, member_done;
    uint64_t members, member_out; /* members done; bytes out of the current one */
    uint64_t in_off;              /* compressed bytes consumed */
    uint64_t member_end;          /* in_off where the last finished member ended */
    z_stream z;
    uint8_t *buf;
    size_t pos, len;
} rd_gz;

/* Fills buf (after the unconsumed bytes) with at least one more byte, or sets in_eof. */
static ll_code gz_fill(rd_gz *g, ll_err *err)
{
    if (g->pos > 0) {
        memmove(g->buf, g->buf + g->pos, g->len - g->pos);
        g->len -= g->pos;
        g->pos = 0;
    }
    size_t n = 0;
    int eof = 0;
    ll_code rc = ll_reader_read(g->in, g->buf + g->len, GZ_IN - g->len, &n, &eof, err);
    if (rc != LL_OK)
        return rc;
    g->len += n;
    if (eof)
        g->in_eof = 1;
    return LL_OK;
}

static ll_code gz_decide(rd_gz *g, ll_err *err)
{
    while (g->len < 2 && !g->in_eof) {
        ll_code rc = gz_fill(g, err);
        if (rc != LL_OK)
            return rc;
    }
    int magic = g->len >= 2 && g->buf[0] == 0x1f && g->buf[1] == 0x8b;
    if (g->want == LL_COMPRESSION_GZIP && !magic && g->len > 0)
        return err_set(
                   err, LL_E_PARSE,
                   "CompressionType Gzip, but the data does not start with 1F 8B (found %02X %02X)",
                   g->buf[0], g->len > 1 ? g->buf[1] : 0),
               err_at(err, g->r.name, 0);
    if (!magic || g->want == LL_COMPRESSION_NONE) {
        g->state = GZ_PLAIN;
        return LL_OK;
    }
    if (!g->z_init) {
        memset(&g->z, 0, sizeof g->z);
        if (inflateInit2(&g->z, 15 + 16) != Z_OK)
            return err_set(err, LL_E_NOMEM, "cannot start zlib");
        g->z_init = 1;
    } else {
        inflateReset(&g->z);
    }
    g->state = GZ_INFLATE;
    return LL_OK;
}

static ll_code gz_inflate(rd_gz *g, uint8_t *out, size_t cap, size_t *n, int *eof, ll_err *err)
{
    for (;;) {
        if (g->pos == g->len) {
            if (g->in_eof) {
                if (g->member_done) {
                    *eof = 1;
                    return LL_OK;
                }
                return err_set(err, LL_E_PARSE, "the gzip data ends in the middle of member %llu",
                               (unsigned long long)g->members + 1),
                       err_at(err, g->r.name, g->in_off);
            }
            ll_code rc = gz_fill(g, err);
            if (rc != LL_OK)
                return rc;
            continue;
        }
        if (g->member_done) { /* more bytes after a member: the next member */
            g->member_end = g->in_off;
            inflateReset(&g->z);
            g->member_done = 0;
            g->member_out = 0;
        }
        g->z.next_in = g->buf + g->pos;
        g->z.avail_in = (uInt)(g->len - g->pos);
        g->z.next_out = out;
        g->z.avail_out = cap > (1u << 30) ? (1u << 30) : (uInt)cap;
        uInt before_out = g->z.avail_out;
        int zr = inflate(&g->z, Z_NO_FLUSH);
        size_t used = (g->len - g->pos) - g->z.avail_in;
        g->pos += used;
        g->in_off += used;
        size_t made = before_out - g->z.avail_out;
        g->member_out += made;
        if (zr == Z_STREAM_END) {
            g->member_done = 1;
            g->members++;
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            const char *what = g->z.msg ? g->z.msg : "corrupt data";
            if (g->members > 0 && g->member_out == 0)
                return err_set(err, LL_E_PARSE,
                               "bytes after gzip member %llu (at compressed byte %llu, after "
                               "%llu uncompressed bytes) are not gzip: %s",
                               (unsigned long long)g->members, (unsigned long long)g->member_end,
                               (unsigned long long)g->r.offset, what),
                       err_at(err, g->r.name, g->member_end);
            return err_set(err, LL_E_PARSE, "gzip member %llu: %s",
                           (unsigned long long)g->members + 1, what),
                   err_at(err, g->r.name, g->in_off);
        }
        if (made > 0) {
            *n = made;
            return LL_OK;
        }
    }
}

static ll_code gz_read(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    rd_gz *g = (rd_gz *)self;
    if (cap == 0)
        return LL_OK;
    if (g->state == GZ_PEEK) {
        ll_code rc = gz_decide(g, err);
        if (rc != LL_OK)
            return rc;
    }
    if (g->state == GZ_INFLATE)
        return gz_inflate(g, buf, cap, n, eof, err);
    if (g->pos < g->len) { /* the bytes looked at first */
        size_t k = g->len - g->pos < cap ? g->len - g->pos : cap;
        memcpy(buf, g->buf + g->pos, k);
        g->pos += k;
        *n = k;
        return LL_OK;
    }
    if (g->in_eof) {
        *eof = 1;
        return LL_OK;
    }
    return ll_reader_read(g->in, buf, cap, n, eof, err);
}

static ll_code gz_rewind(ll_reader *self, ll_err *err)
{
    rd_gz *g = (rd_gz *)self;
    ll_code rc = rd_rewind(g->in, err);
    if (rc != LL_OK)
        return rc;
    g->state = GZ_PEEK;
    g->pos = g->len = 0;
    g->in_eof = g->member_done = 0;
    g->members = g->member_out = g->in_off = 0;
    return LL_OK;
}

static void gz_close(ll_reader *self)
{
    rd_gz *g = (rd_gz *)self;
    if (g->z_init)
        inflateEnd(&g->z);
    ll_reader_free(g->in);
    mem_free(g->buf);
    mem_free(g);
}

ll_code rd_gz_wrap(ll_reader *inner, int mode, ll_reader **out, ll_err *err)
{
    *out = NULL;
    if (mode == LL_COMPRESSION_NONE) {
        *out = inner;
        return LL_OK;
    }
    rd_gz *g = mem_calloc(1, sizeof *g);
    uint8_t *buf = g ? mem_alloc(GZ_IN) : NULL;
    if (!g || !buf) {
        mem_free(g);
        ll_reader_free(inner);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    rd_init(&g->r, inner->name);
    g->in = inner;
    g->buf = buf;
    g->want = mode;
    g->r.read = gz_read;
    g->r.rewind = inner->rewind ? gz_rewind : NULL;
    g->r.close = gz_close;
    *out = &g->r;
    return LL_OK;
}
