/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gz.c - gzip inflation as an ll_reader over another reader (zlib, gzip framing only). A
 * stream that does not start with the gzip magic 1F 8B, or that ends inside a member, is a
 * parse error naming the compressed byte offset.
 */
#include "gz.h"
#include "err.h"
#include "mem.h"
#include "rd.h"
#include <string.h>
#include <zlib.h>

#define GZ_IN_CAP ((size_t)1 << 16)

typedef struct gz_reader {
    ll_reader base;
    ll_reader *in;
    z_stream z;
    uint8_t *buf;
    uint64_t in_off; /* compressed bytes consumed so far (before z.next_in) */
    int in_eof;
    int in_member; /* inside a gzip member */
    int started;
} gz_reader;

static uint64_t consumed(const gz_reader *g)
{
    return g->in_off - g->z.avail_in;
}

static ll_code gz_fill(gz_reader *g, ll_err *err)
{
    size_t n = 0;
    int eof = 0;
    ll_code rc = ll_reader_read(g->in, g->buf, GZ_IN_CAP, &n, &eof, err);
    if (rc != LL_OK)
        return rc;
    g->z.next_in = g->buf;
    g->z.avail_in = (uInt)n;
    g->in_off += n;
    g->in_eof = eof;
    return LL_OK;
}

static ll_code gz_read(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    gz_reader *g = (gz_reader *)self;
    *n = 0;
    *eof = 0;
    if (cap > ((size_t)1 << 30))
        cap = (size_t)1 << 30;
    g->z.next_out = buf;
    g->z.avail_out = (uInt)cap;
    while (g->z.avail_out == cap) {
        if (g->z.avail_in == 0 && !g->in_eof) {
            ll_code rc = gz_fill(g, err);
            if (rc != LL_OK)
                return rc;
            continue;
        }
        if (g->z.avail_in == 0 && g->in_eof) {
            if (g->in_member || !g->started) {
                err_set(err, LL_E_PARSE,
                        g->started ? "the gzip data ends inside a member (truncated)"
                                   : "empty input where gzip data was expected");
                return err_at(err, g->in->name, consumed(g));
            }
            *eof = 1;
            return LL_OK;
        }
        if (!g->in_member) {
            /* a new member must start with the magic (checked on its first byte pair) */
            if (g->z.avail_in < 2 && !g->in_eof) {
                /* keep the byte and read more */
                uint8_t b0 = g->z.next_in[0];
                size_t k = 0;
                int e = 0;
                ll_code rc = ll_reader_read(g->in, g->buf + 1, GZ_IN_CAP - 1, &k, &e, err);
                if (rc != LL_OK)
                    return rc;
                g->buf[0] = b0;
                g->z.next_in = g->buf;
                g->z.avail_in = (uInt)(k + 1);
                g->in_off += k;
                g->in_eof = e;
                continue;
            }
            if (g->z.avail_in < 2 || g->z.next_in[0] != 0x1f || g->z.next_in[1] != 0x8b) {
                err_set(err, LL_E_PARSE,
                        "expected gzip data (bytes 1F 8B) for a Gzip channel, found %02X%s",
                        g->z.next_in[0], g->z.avail_in < 2 ? " then the end" : "...");
                return err_at(err, g->in->name, consumed(g));
            }
            if (inflateReset(&g->z) != Z_OK)
                return err_set(err, LL_E_STATE, "inflateReset failed");
            g->in_member = 1;
            g->started = 1;
        }
        int zr = inflate(&g->z, Z_NO_FLUSH);
        if (zr == Z_STREAM_END) {
            g->in_member = 0;
        } else if (zr == Z_BUF_ERROR && g->z.avail_in == 0) {
            continue; /* needs input; the loop reads more */
        } else if (zr != Z_OK) {
            err_set(err, LL_E_PARSE, "corrupt gzip data: %s", g->z.msg ? g->z.msg : "inflate");
            return err_at(err, g->in->name, consumed(g));
        }
    }
    *n = cap - g->z.avail_out;
    return LL_OK;
}

static void gz_close(ll_reader *self)
{
    gz_reader *g = (gz_reader *)self;
    inflateEnd(&g->z);
    ll_reader_free(g->in);
    mem_free(g->buf);
    mem_free(g);
}

ll_code gz_wrap(ll_reader *inner, ll_reader **out, ll_err *err)
{
    *out = NULL;
    gz_reader *g = mem_calloc(1, sizeof *g);
    uint8_t *buf = mem_alloc(GZ_IN_CAP);
    if (!g || !buf) {
        mem_free(g);
        mem_free(buf);
        ll_reader_free(inner);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    /* 16 + MAX_WBITS: gzip framing only */
    if (inflateInit2(&g->z, 16 + MAX_WBITS) != Z_OK) {
        mem_free(g);
        mem_free(buf);
        ll_reader_free(inner);
        return err_set(err, LL_E_NOMEM, "cannot start zlib");
    }
    rd_init(&g->base, ll_reader_name(inner));
    g->base.read = gz_read;
    g->base.rewind = NULL;
    g->base.close = gz_close;
    g->in = inner;
    g->buf = buf;
    *out = &g->base;
    return LL_OK;
}
