/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rio.c - fuzz target for the RecordIO framing reader and writers. Arbitrary bytes are
 * read in both split modes, whole and in small pieces; the target checks the reader's
 * invariants (records before an error are delivered, offsets increase and stay 4-aligned, an
 * error names the record index and a frame offset, the end comes only after every byte), that
 * piecewise reading gives exactly the same records and error, and that rio_write (cflag 0) and
 * rio_write_dmlc (magic escaping) round-trip every delivered payload.
 */
#include "rd.h"
#include "rio.h"
#include "wr.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_rio: " __VA_ARGS__);                                                 \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

/* ---- a reader handing out small pieces, like a pipe ---- */

typedef struct {
    ll_reader r;
    const uint8_t *data;
    size_t len, pos;
    uint32_t rng;
} piece_rd;

static ll_code piece_read(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    piece_rd *m = (piece_rd *)self;
    *n = 0;
    *eof = m->pos == m->len;
    if (*eof)
        return LL_OK;
    m->rng = m->rng * 1103515245u + 12345u;
    size_t k = 1 + (m->rng >> 16) % 13;
    if (k > cap)
        k = cap;
    if (k > m->len - m->pos)
        k = m->len - m->pos;
    memcpy(buf, m->data + m->pos, k);
    m->pos += k;
    *n = k;
    return LL_OK;
}

static void piece_close(ll_reader *self)
{
    free(self);
}

static ll_reader *piece_reader(const uint8_t *data, size_t len, uint32_t seed)
{
    piece_rd *m = calloc(1, sizeof *m);
    rd_init(&m->r, "pieces");
    m->r.read = piece_read;
    m->r.close = piece_close;
    m->data = data;
    m->len = len;
    m->rng = seed;
    return &m->r;
}

/* ---- a writer into memory ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} mbuf;

typedef struct {
    wr_backend be;
    mbuf *out;
} mem_be;

static ll_code mem_write(wr_backend *self, const void *p, size_t len, ll_err *err)
{
    mbuf *o = ((mem_be *)self)->out;
    if (o->n + len > o->cap) {
        o->cap = (o->n + len) * 2;
        o->p = realloc(o->p, o->cap);
    }
    memcpy(o->p + o->n, p, len);
    o->n += len;
    return LL_OK;
}

static ll_code mem_commit(wr_backend *self, ll_err *err)
{
    free(self);
    return LL_OK;
}

static void mem_abort(wr_backend *self)
{
    free(self);
}

static ll_writer *mem_writer(mbuf *out)
{
    mem_be *m = calloc(1, sizeof *m);
    m->be = (wr_backend){mem_write, mem_commit, mem_abort};
    m->out = out;
    ll_writer *w;
    if (wr_new(&m->be, "memory", &w, NULL) != LL_OK)
        FAIL("wr_new");
    return w;
}

/* ---- reading everything ---- */

typedef struct {
    size_t n;
    uint8_t **pl;
    size_t *len;
    uint64_t *off;
    ll_code rc; /* LL_OK: clean end */
    rio_fault fault;
    uint64_t err_off, err_rec;
} result;

static void read_all(ll_reader *rd, ll_split_mode mode, size_t max_len, size_t size, result *res)
{
    memset(res, 0, sizeof *res);
    rio_reader r;
    ll_err err;
    if (rio_reader_init(&r, rd, mode, max_len, &err) != LL_OK)
        FAIL("init");
    for (;;) {
        const uint8_t *pl;
        size_t len;
        int eof;
        ll_code rc = rio_next(&r, &pl, &len, &eof, &err);
        if (rc != LL_OK) {
            res->rc = rc;
            res->fault = r.fault;
            if (!(err.has & LL_ERR_OFFSET) || !(err.has & LL_ERR_RECORD))
                FAIL("error without offset or record index");
            res->err_off = err.offset;
            res->err_rec = err.record;
            if (err.record != res->n || r.n_records != res->n)
                FAIL("error names record %llu after %zu delivered", (unsigned long long)err.record,
                     res->n);
            if (err.offset % 4 || err.offset > size)
                FAIL("error offset %llu (size %zu)", (unsigned long long)err.offset, size);
            if (res->n && err.offset <= res->off[res->n - 1])
                FAIL("error offset before the last record");
            if (r.fault == RIO_OK)
                FAIL("error without a fault kind");
            if ((rc == LL_E_TOOBIG) != (r.fault == RIO_TOO_LONG))
                FAIL("LL_E_TOOBIG iff too_long");
            if (rc != LL_E_TOOBIG && rc != LL_E_PARSE)
                FAIL("unexpected code %d", (int)rc);
            break;
        }
        if (eof) {
            if (ll_reader_offset(rd) != size)
                FAIL("end of stream before the last byte");
            break;
        }
        if (r.rec_off % 4 || (res->n && r.rec_off <= res->off[res->n - 1]))
            FAIL("record offset %llu not increasing/aligned", (unsigned long long)r.rec_off);
        if (r.rec_off + rio_frame_size(len) > size + 4 * (size_t)r.n_frames)
            FAIL("record runs past the input");
        if (len > (max_len ? max_len : RIO_MAX_LEN))
            FAIL("record longer than max_len");
        if (len && !pl)
            FAIL("NULL payload");
        res->pl = realloc(res->pl, (res->n + 1) * sizeof *res->pl);
        res->len = realloc(res->len, (res->n + 1) * sizeof *res->len);
        res->off = realloc(res->off, (res->n + 1) * sizeof *res->off);
        res->pl[res->n] = malloc(len + 1);
        if (len)
            memcpy(res->pl[res->n], pl, len);
        res->len[res->n] = len;
        res->off[res->n] = r.rec_off;
        res->n++;
        if (r.n_records != res->n)
            FAIL("n_records");
    }
    rio_reader_deinit(&r);
}

static void free_result(result *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->pl[i]);
    free(r->pl);
    free(r->len);
    free(r->off);
}

static void same(const result *a, const result *b, const char *what)
{
    if (a->n != b->n || a->rc != b->rc || a->fault != b->fault ||
        (a->rc && (a->err_off != b->err_off || a->err_rec != b->err_rec)))
        FAIL("%s: %zu records rc %d fault %d at %llu vs %zu records rc %d fault %d at %llu", what,
             a->n, (int)a->rc, (int)a->fault, (unsigned long long)a->err_off, b->n, (int)b->rc,
             (int)b->fault, (unsigned long long)b->err_off);
    for (size_t i = 0; i < a->n; i++)
        if (a->len[i] != b->len[i] || a->off[i] != b->off[i] ||
            memcmp(a->pl[i], b->pl[i], a->len[i]))
            FAIL("%s: record %zu differs", what, i);
}

/* Writes the payloads with rio_write or rio_write_dmlc and reads them back. */
static void roundtrip(const result *a, int dmlc)
{
    mbuf out = {0};
    ll_writer *w = mem_writer(&out);
    ll_err err;
    for (size_t i = 0; i < a->n; i++) {
        ll_code rc = dmlc ? rio_write_dmlc(w, a->pl[i], a->len[i], &err)
                          : rio_write(w, a->pl[i], a->len[i], &err);
        if (rc != LL_OK)
            FAIL("write failed");
    }
    if (ll_writer_commit(w, &err) != LL_OK)
        FAIL("commit");
    if (!dmlc) {
        /* rio_frame gives the same bytes */
        size_t at = 0;
        for (size_t i = 0; i < a->n; i++) {
            uint8_t *f = malloc(rio_frame_size(a->len[i]));
            size_t k = rio_frame(f, a->pl[i], a->len[i]);
            if (k != rio_frame_size(a->len[i]) || at + k > out.n || memcmp(out.p + at, f, k))
                FAIL("rio_frame differs from rio_write");
            at += k;
            free(f);
        }
        if (at != out.n)
            FAIL("rio_write wrote extra bytes");
    }
    ll_reader *rd = ll_reader_mem(out.p, out.n, "roundtrip");
    result b;
    read_all(rd, LL_SPLIT_DMLC, out.n + 8, out.n, &b);
    ll_reader_free(rd);
    if (b.rc != LL_OK || b.n != a->n)
        FAIL("round trip (%s): %zu records rc %d, wrote %zu", dmlc ? "dmlc" : "plain", b.n,
             (int)b.rc, a->n);
    for (size_t i = 0; i < a->n; i++)
        if (a->len[i] != b.len[i] || memcmp(a->pl[i], b.pl[i], a->len[i]))
            FAIL("round trip (%s): record %zu differs", dmlc ? "dmlc" : "plain", i);
    free_result(&b);
    free(out.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 20))
        return 0;
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    /* max_len = size + 8 keeps the read window small (the replay harness runs this 20000
     * times under ASan) and changes nothing: no record can be longer than the input. A frame
     * declaring more gives LL_E_TOOBIG here and truncated_payload without a limit (checked
     * below). */
    const size_t lim = size + 8;
    result a[2];
    for (int mode = 0; mode < 2; mode++) {
        ll_reader *rd = ll_reader_mem(buf, size, "fuzz");
        read_all(rd, (ll_split_mode)mode, lim, size, &a[mode]);
        ll_reader_free(rd);
        result b;
        rd = piece_reader(buf, size, (uint32_t)size * 2654435761u + (uint32_t)mode);
        read_all(rd, (ll_split_mode)mode, lim, size, &b);
        ll_reader_free(rd);
        same(&a[mode], &b, "piecewise reading");
        free_result(&b);
    }
    roundtrip(&a[0], 1);
    roundtrip(&a[1], 0);
    {
        result u;
        ll_reader *rd = ll_reader_mem(buf, size, "fuzz");
        read_all(rd, LL_SPLIT_DMLC, 0, size, &u);
        ll_reader_free(rd);
        if (a[0].rc == LL_E_TOOBIG) {
            if (u.rc != LL_E_PARSE || u.fault != RIO_TRUNCATED_PAYLOAD ||
                u.err_off != a[0].err_off || u.n != a[0].n)
                FAIL("no limit: expected truncated_payload at %llu",
                     (unsigned long long)a[0].err_off);
            u.rc = a[0].rc;
            u.fault = a[0].fault;
        }
        same(&a[0], &u, "no limit");
        free_result(&u);
    }
    /* both modes see the same frames: same record offsets, same verdict */
    if (a[0].n != a[1].n || a[0].rc != a[1].rc || a[0].fault != a[1].fault ||
        a[0].err_off != a[1].err_off)
        FAIL("split modes disagree on framing");
    for (size_t i = 0; i < a[0].n; i++)
        if (a[0].off[i] != a[1].off[i])
            FAIL("split modes disagree on record %zu's offset", i);
    /* a small max_len: same records up to the first longer one, then LL_E_TOOBIG */
    {
        const size_t small = 24;
        result c;
        ll_reader *rd = ll_reader_mem(buf, size, "fuzz");
        read_all(rd, LL_SPLIT_DMLC, small, size, &c);
        ll_reader_free(rd);
        size_t k = 0;
        while (k < a[0].n && a[0].len[k] <= small)
            k++;
        if (c.n < k)
            FAIL("max_len: %zu records, expected at least %zu", c.n, k);
        for (size_t i = 0; i < c.n; i++)
            if (c.len[i] != a[0].len[i] || memcmp(c.pl[i], a[0].pl[i], c.len[i]))
                FAIL("max_len: record %zu differs", i);
        if (k < a[0].n && (c.n != k || c.rc != LL_E_TOOBIG))
            FAIL("max_len: expected LL_E_TOOBIG at record %zu, got rc %d after %zu", k, (int)c.rc,
                 c.n);
        free_result(&c);
    }
    /* auto mode: the dmlc-core reading from rio_next, the plain one from rio_alt (split records
     * only), and the same framing verdict as dmlc-core */
    {
        rio_reader r;
        ll_err err;
        ll_reader *rd = ll_reader_mem(buf, size, "fuzz");
        if (rio_reader_init(&r, rd, LL_SPLIT_AUTO, lim, &err) != LL_OK)
            FAIL("init auto");
        size_t i = 0;
        ll_code rc;
        for (;; i++) {
            const uint8_t *pl, *alt;
            size_t len, alen;
            int eof;
            rc = rio_next(&r, &pl, &len, &eof, &err);
            if (rc != LL_OK || eof)
                break;
            if (i >= a[0].n || len != a[0].len[i] || memcmp(pl, a[0].pl[i], len))
                FAIL("auto: record %zu differs from dmlc-core's reading", i);
            int has = rio_alt(&r, &alt, &alen);
            if (has != (r.n_frames > 1))
                FAIL("auto: rio_alt for a record of %u frames", r.n_frames);
            if (has && (alen != a[1].len[i] || memcmp(alt, a[1].pl[i], alen)))
                FAIL("auto: record %zu's plain reading differs from concat's", i);
        }
        if (i != a[0].n || rc != a[0].rc)
            FAIL("auto: %zu records (rc %d), dmlc-core %zu (rc %d)", i, (int)rc, a[0].n,
                 (int)a[0].rc);
        rio_reader_deinit(&r);
        ll_reader_free(rd);
    }
    free_result(&a[0]);
    free_result(&a[1]);
    free(buf);
    return 0;
}
