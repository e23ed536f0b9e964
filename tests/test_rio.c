/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rio.c - RecordIO framing edge cases (spec recordio-protobuf.md 3 and 8): empty stream,
 * truncation at every byte, bad and big-endian magic, cflag sequences, dmlc magic escaping
 * round trips, streams delivered in pieces, the max_len limit, padding and zero-length frames.
 */
#include "pb.h"
#include "rd.h"
#include "rio.h"
#include "support_pb.h"
#include "tt.h"

static const uint8_t MAGIC[4] = {0x0A, 0x23, 0xD7, 0xCE};

static void put32(tsup_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    if (b->n + 4 > b->cap) {
        b->cap = (b->n + 4) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, x, 4);
    b->n += 4;
}

static void put(tsup_buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* A frame written by hand: magic, cflag/len, data, zero pad. */
static void hframe(tsup_buf *b, uint32_t cflag, const void *p, size_t n)
{
    put32(b, RIO_MAGIC);
    put32(b, cflag << 29 | (uint32_t)n);
    put(b, p, n);
    static const uint8_t z[3];
    put(b, z, (4 - n % 4) % 4);
}

typedef struct {
    size_t n;
    size_t len[64];
    uint64_t off[64];
    uint8_t data[64][256];
    ll_code rc;
    rio_fault fault;
    ll_err err;
} got;

static void read_all(ll_reader *rd, ll_split_mode mode, size_t max_len, got *g)
{
    memset(g, 0, sizeof *g);
    rio_reader r;
    if (rio_reader_init(&r, rd, mode, max_len, &g->err) != LL_OK) {
        g->rc = LL_E_NOMEM;
        return;
    }
    for (;;) {
        const uint8_t *pl;
        size_t len;
        int eof;
        ll_code rc = rio_next(&r, &pl, &len, &eof, &g->err);
        if (rc != LL_OK) {
            g->rc = rc;
            g->fault = r.fault;
            break;
        }
        if (eof || g->n == 64)
            break;
        g->len[g->n] = len;
        g->off[g->n] = r.rec_off;
        memcpy(g->data[g->n], pl, len < 256 ? len : 256);
        g->n++;
    }
    rio_reader_deinit(&r);
}

static void read_mem(const void *p, size_t n, ll_split_mode mode, size_t max_len, got *g)
{
    ll_reader *rd = ll_reader_mem(p, n, "t.rio");
    read_all(rd, mode, max_len, g);
    ll_reader_free(rd);
}

static void empty_stream(void)
{
    got g;
    read_mem("", 0, LL_SPLIT_DMLC, 0, &g);
    CHECK(g.rc == LL_OK && g.n == 0);
    /* through the parser: 0 rows, clean end */
    ll_err err;
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    o.format = LL_FMT_RECORDIO;
    ll_reader *rd = ll_reader_mem("", 0, "empty.pbr");
    ll_parser *p;
    CHECK_OK(ll_parser_new(rd, &o, &p, &err));
    ll_batch b;
    ll_batch_init(&b);
    int eof = 0;
    ll_code rc = ll_parser_next(p, &b, 10, &eof, &err);
    CHECK(rc == LL_OK && eof && b.n_rows == 0);
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
}

static void writer_bytes(void)
{
    /* rio_write: magic LE, cflag 0, zero pad; rio_frame the same */
    tsup_buf out = {0};
    ll_writer *w;
    ll_err err;
    CHECK_OK(tsup_mem_writer(&out, &w, &err));
    CHECK_OK(rio_write(w, "hello", 5, &err));
    CHECK_OK(rio_write(w, "", 0, &err));
    CHECK_OK(ll_writer_commit(w, &err));
    static const uint8_t want[] = {0x0A, 0x23, 0xD7, 0xCE, 5,   0, 0, 0,
                                   'h',  'e',  'l',  'l',  'o', 0, 0, 0,
                                   0x0A, 0x23, 0xD7, 0xCE, 0,   0, 0, 0};
    CHECK(out.n == sizeof want && memcmp(out.p, want, sizeof want) == 0);
    uint8_t f[16];
    CHECK(rio_frame(f, "hello", 5) == 16 && memcmp(f, want, 16) == 0);
    CHECK(rio_frame_size(0) == 8 && rio_frame_size(1) == 12 && rio_frame_size(4) == 12 &&
          rio_frame_size(5) == 16);
    free(out.p);
    /* a payload of 2^29 bytes or more is refused before anything is written */
    out = (tsup_buf){0};
    CHECK_OK(tsup_mem_writer(&out, &w, &err));
    CHECK(rio_write(w, "x", (size_t)RIO_MAX_LEN + 1, &err) == LL_E_TOOBIG);
    CHECK(rio_write_dmlc(w, "x", (size_t)RIO_MAX_LEN + 1, &err) == LL_E_TOOBIG);
    CHECK_OK(ll_writer_commit(w, &err));
    CHECK(out.n == 0);
    free(out.p);
}

static void zero_length_and_pad(void)
{
    tsup_buf b = {0};
    hframe(&b, 0, "", 0);
    hframe(&b, 0, "a", 1);
    hframe(&b, 0, "", 0);
    /* non-zero pad bytes are skipped without complaint (spec 3.2) */
    hframe(&b, 0, "abc", 3);
    b.p[b.n - 1] = 0xFF;
    got g;
    read_mem(b.p, b.n, LL_SPLIT_DMLC, 0, &g);
    CHECK(g.rc == LL_OK && g.n == 4);
    CHECK(g.len[0] == 0 && g.len[1] == 1 && g.len[2] == 0 && g.len[3] == 3);
    CHECK(g.off[0] == 0 && g.off[1] == 8 && g.off[2] == 20 && g.off[3] == 28);
    CHECK(memcmp(g.data[3], "abc", 3) == 0);
    free(b.p);
}

/* Three records, truncated at every byte: records before the cut are delivered, then a
 * truncated_header or truncated_payload error at the broken frame, or a clean end. */
static void truncation_every_byte(void)
{
    tsup_buf b = {0};
    hframe(&b, 0, "hello", 5);    /* 0..16 */
    hframe(&b, 0, "", 0);         /* 16..24 */
    hframe(&b, 0, "12345678", 8); /* 24..40 */
    uint64_t starts[] = {0, 16, 24, 40};
    for (size_t cut = 0; cut <= b.n; cut++) {
        got g;
        read_mem(b.p, cut, LL_SPLIT_DMLC, 0, &g);
        size_t k = 0; /* frames complete in the cut */
        while (k < 3 && starts[k + 1] <= cut)
            k++;
        CHECKF(g.n == k, "cut %zu: %zu records, expected %zu", cut, g.n, k);
        if (cut == starts[k]) {
            CHECKF(g.rc == LL_OK, "cut %zu at a frame boundary must end cleanly", cut);
            continue;
        }
        CHECKF(g.rc == LL_E_PARSE, "cut %zu: rc %d", cut, (int)g.rc);
        rio_fault want = cut - starts[k] < 8 ? RIO_TRUNCATED_HEADER : RIO_TRUNCATED_PAYLOAD;
        CHECKF(g.fault == want, "cut %zu: fault %s, expected %s", cut, rio_fault_name(g.fault),
               rio_fault_name(want));
        CHECKF(g.err.offset == starts[k] && (g.err.has & LL_ERR_OFFSET), "cut %zu: offset %llu",
               cut, (unsigned long long)g.err.offset);
        CHECKF(g.err.record == k && (g.err.has & LL_ERR_RECORD), "cut %zu: record %llu", cut,
               (unsigned long long)g.err.record);
        CHECK(strstr(g.err.msg, rio_fault_name(want)) != NULL);
    }
    free(b.p);
}

/* The same through the public parser with protobuf payloads. */
static void truncation_parser(void)
{
    ll_err err;
    tsup_buf b = {0};
    float v[3] = {1, 2, 3};
    float l = 1;
    uint64_t starts[5];
    for (int i = 0; i < 4; i++) {
        starts[i] = b.n;
        pb_entry_in f = {"values", {PB_F32, v, (size_t)(1 + i % 3), NULL, 0, NULL, 0, NULL}};
        pb_entry_in lb = {"values", {PB_F32, &l, 1, NULL, 0, NULL, 0, NULL}};
        pb_record_in in = {&f, 1, &lb, 1, NULL, NULL, NULL};
        uint8_t buf[128];
        size_t n = pb_encode(&in, buf);
        CHECK(n == pb_encoded_size(&in));
        hframe(&b, 0, buf, n);
    }
    starts[4] = b.n;
    for (size_t cut = 0; cut <= b.n; cut++) {
        ll_parse_opts o;
        ll_parse_opts_init(&o);
        o.format = LL_FMT_RECORDIO;
        ll_reader *rd = ll_reader_mem(b.p, cut, "t.pbr");
        ll_parser *p;
        CHECK_OK(ll_parser_new(rd, &o, &p, &err));
        ll_batch bt;
        ll_batch_init(&bt);
        int eof = 0;
        size_t rows = 0;
        ll_code rc = LL_OK;
        while (!eof && rc == LL_OK) {
            rc = ll_parser_next(p, &bt, 1, &eof, &err);
            if (rc == LL_OK)
                rows += bt.n_rows;
        }
        size_t k = 0;
        while (k < 4 && starts[k + 1] <= cut)
            k++;
        ll_batch_deinit(&bt);
        ll_parser_free(p);
        ll_reader_free(rd);
        CHECKF(rows == k, "cut %zu: %zu rows, expected %zu", cut, rows, k);
        if (cut == starts[k]) {
            CHECKF(rc == LL_OK, "cut %zu: rc %d", cut, (int)rc);
        } else {
            CHECKF(rc == LL_E_PARSE && err.record == k && err.offset == starts[k] &&
                       !strcmp(err.src, "t.pbr"),
                   "cut %zu: rc %d record %llu offset %llu", cut, (int)rc,
                   (unsigned long long)err.record, (unsigned long long)err.offset);
        }
    }
    free(b.p);
}

static void bad_magic(void)
{
    tsup_buf b = {0};
    hframe(&b, 0, "good", 4);
    /* big-endian header */
    static const uint8_t be[] = {0xCE, 0xD7, 0x23, 0x0A, 0, 0, 0, 4, 'a', 'b', 'c', 'd'};
    put(&b, be, sizeof be);
    got g;
    read_mem(b.p, b.n, LL_SPLIT_DMLC, 0, &g);
    CHECK(g.n == 1 && g.rc == LL_E_PARSE && g.fault == RIO_BAD_MAGIC);
    CHECK(g.err.offset == 12 && g.err.record == 1);
    CHECK(strstr(g.err.msg, "big-endian") != NULL);
    /* garbage */
    b.n = 12;
    put(&b, "1,2,3\n4,5,6\n", 12);
    read_mem(b.p, b.n, LL_SPLIT_DMLC, 0, &g);
    CHECK(g.n == 1 && g.fault == RIO_BAD_MAGIC && g.err.offset == 12);
    /* a bad magic at the very start */
    read_mem("PK\3\4xxxxxxxx", 12, LL_SPLIT_DMLC, 0, &g);
    CHECK(g.n == 0 && g.fault == RIO_BAD_MAGIC && g.err.offset == 0 && g.err.record == 0);
    /* a bad magic inside a split record names the frame */
    b.n = 0;
    hframe(&b, 1, "abcd", 4);
    put(&b, be, sizeof be);
    read_mem(b.p, b.n, LL_SPLIT_DMLC, 0, &g);
    CHECK(g.n == 0 && g.fault == RIO_BAD_MAGIC && g.err.offset == 12 && g.err.record == 0);
    free(b.p);
}

/* cflag sequences: each case is a list of cflags (-1 ends); frames hold "abcd". */
static void cflag_sequences(void)
{
    static const struct {
        int cf[6];
        int ok;           /* 1: valid, records = n_rec */
        size_t n_rec;     /* records delivered (before the error) */
        uint64_t err_off; /* offset of the offending frame (each frame is 12 bytes after the
                             4-byte lead record) */
        rio_fault fault;
    } cases[] = {
        {{0, -1}, 1, 1, 0, RIO_OK},
        {{1, 3, -1}, 1, 1, 0, RIO_OK},
        {{1, 2, 2, 3, 0, -1}, 1, 2, 0, RIO_OK},
        {{2, -1}, 0, 0, 12, RIO_UNEXPECTED_CFLAG},
        {{3, -1}, 0, 0, 12, RIO_UNEXPECTED_CFLAG},
        {{0, 2, -1}, 0, 1, 24, RIO_UNEXPECTED_CFLAG},
        {{1, 0, -1}, 0, 0, 24, RIO_UNEXPECTED_CFLAG},
        {{1, 1, -1}, 0, 0, 24, RIO_UNEXPECTED_CFLAG},
        {{1, 2, 0, -1}, 0, 0, 36, RIO_UNEXPECTED_CFLAG},
        {{1, 2, 1, -1}, 0, 0, 36, RIO_UNEXPECTED_CFLAG},
        {{4, -1}, 0, 0, 12, RIO_UNEXPECTED_CFLAG},
        {{5, -1}, 0, 0, 12, RIO_UNEXPECTED_CFLAG},
        {{7, -1}, 0, 0, 12, RIO_UNEXPECTED_CFLAG},
        {{1, 4, -1}, 0, 0, 24, RIO_UNEXPECTED_CFLAG},
        {{1, 3, 3, -1}, 0, 1, 36, RIO_UNEXPECTED_CFLAG},
        /* the stream ends inside a split record: the missing header is reported where it
         * should start */
        {{1, -1}, 0, 0, 24, RIO_TRUNCATED_HEADER},
        {{1, 2, -1}, 0, 0, 36, RIO_TRUNCATED_HEADER},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        for (int mode = 0; mode < 2; mode++) {
            tsup_buf b = {0};
            hframe(&b, 0, "lead", 4); /* one good record first: indexes shift by one */
            for (int i = 0; cases[c].cf[i] >= 0; i++)
                hframe(&b, (uint32_t)cases[c].cf[i], "abcd", 4);
            got g;
            read_mem(b.p, b.n, (ll_split_mode)mode, 0, &g);
            free(b.p);
            if (cases[c].ok) {
                CHECKF(g.rc == LL_OK && g.n == 1 + cases[c].n_rec, "case %zu: rc %d n %zu", c,
                       (int)g.rc, g.n);
            } else {
                CHECKF(g.rc == LL_E_PARSE && g.n == 1 + cases[c].n_rec &&
                           g.fault == cases[c].fault && g.err.offset == cases[c].err_off &&
                           g.err.record == 1 + cases[c].n_rec,
                       "case %zu mode %d: rc %d n %zu fault %s offset %llu record %llu", c, mode,
                       (int)g.rc, g.n, rio_fault_name(g.fault), (unsigned long long)g.err.offset,
                       (unsigned long long)g.err.record);
            }
        }
    }
    /* split reassembly in the two conventions */
    tsup_buf b = {0};
    hframe(&b, 1, "ab", 2);
    hframe(&b, 2, "", 0);
    hframe(&b, 3, "cde", 3);
    got g;
    read_mem(b.p, b.n, LL_SPLIT_DMLC, 0, &g);
    CHECK(g.rc == LL_OK && g.n == 1 && g.len[0] == 13 && g.off[0] == 0);
    CHECK(memcmp(g.data[0],
                 "ab\x0A\x23\xD7\xCE\x0A\x23\xD7\xCE"
                 "cde",
                 13) == 0);
    read_mem(b.p, b.n, LL_SPLIT_CONCAT, 0, &g);
    CHECK(g.rc == LL_OK && g.n == 1 && g.len[0] == 5 && memcmp(g.data[0], "abcde", 5) == 0);
    free(b.p);
}

/* Splits a raw stream into its frames. */
static size_t frames_of(const tsup_buf *b, uint32_t *cflags, uint32_t *lens, size_t max)
{
    size_t n = 0, at = 0;
    while (at + 8 <= b->n && n < max) {
        uint32_t l = (uint32_t)b->p[at + 4] | (uint32_t)b->p[at + 5] << 8 |
                     (uint32_t)b->p[at + 6] << 16 | (uint32_t)b->p[at + 7] << 24;
        cflags[n] = l >> 29;
        lens[n] = l & RIO_MAX_LEN;
        at += rio_frame_size(lens[n]);
        n++;
    }
    return n;
}

static void dmlc_writer(void)
{
    /* payload layouts: where the magic sits (word offsets) */
    static const struct {
        size_t len;
        int at[4]; /* byte offsets of magic copies, -1 ends */
        size_t frames;
        uint32_t cflags[5];
        uint32_t lens[5];
    } cases[] = {
        {9, {-1}, 1, {0}, {9}},                                   /* no magic */
        {4, {0, -1}, 2, {1, 3}, {0, 0}},                          /* the payload is the magic */
        {12, {0, -1}, 2, {1, 3}, {0, 8}},                         /* magic at offset 0 */
        {12, {8, -1}, 2, {1, 3}, {8, 0}},                         /* magic in the last word */
        {14, {8, -1}, 2, {1, 3}, {8, 2}},                         /* last full word, then 2 */
        {16, {4, 8, -1}, 3, {1, 2, 3}, {4, 0, 4}},                /* adjacent */
        {16, {0, 4, 8, 12}, 5, {1, 2, 2, 2, 3}, {0, 0, 0, 0, 0}}, /* all magic */
        {13, {1, -1}, 1, {0}, {13}},                              /* unaligned: not split */
        {10, {6, -1}, 1, {0}, {10}},                              /* unaligned at the end */
    };
    ll_err err;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        uint8_t p[32];
        for (size_t i = 0; i < sizeof p; i++)
            p[i] = (uint8_t)(0x40 + i);
        for (int k = 0; k < 4 && cases[c].at[k] >= 0; k++)
            memcpy(p + cases[c].at[k], MAGIC, 4);
        tsup_buf out = {0};
        ll_writer *w;
        CHECK_OK(tsup_mem_writer(&out, &w, &err));
        CHECK_OK(rio_write(w, "lead", 4, &err));
        CHECK_OK(rio_write_dmlc(w, p, cases[c].len, &err));
        CHECK_OK(rio_write_dmlc(w, "tail", 4, &err));
        CHECK_OK(ll_writer_commit(w, &err));
        uint32_t cf[16], ln[16];
        size_t nf = frames_of(&out, cf, ln, 16);
        CHECKF(nf == cases[c].frames + 2, "case %zu: %zu frames", c, nf);
        for (size_t i = 0; i < cases[c].frames; i++)
            CHECKF(cf[i + 1] == cases[c].cflags[i] && ln[i + 1] == cases[c].lens[i],
                   "case %zu frame %zu: cflag %u len %u", c, i, cf[i + 1], ln[i + 1]);
        CHECK(out.n % 4 == 0);
        got g;
        read_mem(out.p, out.n, LL_SPLIT_DMLC, 0, &g);
        CHECKF(g.rc == LL_OK && g.n == 3 && g.len[1] == cases[c].len &&
                   memcmp(g.data[1], p, cases[c].len) == 0 && g.off[1] == 12 &&
                   g.off[2] == out.n - 12,
               "case %zu: dmlc read back", c);
        /* the concat convention drops the elided magics */
        read_mem(out.p, out.n, LL_SPLIT_CONCAT, 0, &g);
        size_t n_magic = cases[c].frames - 1;
        CHECKF(g.rc == LL_OK && g.n == 3 && g.len[1] == cases[c].len - 4 * n_magic,
               "case %zu: concat read back", c);
        free(out.p);
    }
}

/* A stream handed out 1 byte at a time and in random pieces reads exactly as from memory. */
static void piecewise(void)
{
    tsup_buf b = {0};
    uint8_t big[200];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    memcpy(big + 40, MAGIC, 4);
    hframe(&b, 0, "x", 1);
    hframe(&b, 0, big, sizeof big);
    hframe(&b, 1, big, 17);
    hframe(&b, 2, big + 17, 8);
    hframe(&b, 3, big + 25, 31);
    hframe(&b, 0, "", 0);
    hframe(&b, 0, "hello", 5);
    for (int mode = 0; mode < 2; mode++) {
        got ref;
        read_mem(b.p, b.n, (ll_split_mode)mode, 0, &ref);
        CHECK(ref.rc == LL_OK && ref.n == 5);
        for (int k = 0; k < 6; k++) {
            size_t piece = k == 0 ? 1 : k == 1 ? 3 : 0;
            ll_reader *rd = tsup_piece_reader(b.p, b.n, piece, (uint64_t)k * 77 + 1);
            got g;
            read_all(rd, (ll_split_mode)mode, 0, &g);
            ll_reader_free(rd);
            CHECKF(g.rc == LL_OK && g.n == ref.n, "piece %zu: %zu records rc %d", piece, g.n,
                   (int)g.rc);
            for (size_t i = 0; i < g.n; i++)
                CHECK(g.len[i] == ref.len[i] && g.off[i] == ref.off[i] &&
                      memcmp(g.data[i], ref.data[i], g.len[i] < 256 ? g.len[i] : 256) == 0);
        }
        /* and truncated, in pieces: the error is the same */
        got rt;
        read_mem(b.p, b.n - 3, (ll_split_mode)mode, 0, &ref);
        ll_reader *rd = tsup_piece_reader(b.p, b.n - 3, 1, 5);
        read_all(rd, (ll_split_mode)mode, 0, &rt);
        ll_reader_free(rd);
        CHECK(ref.rc == LL_E_PARSE && rt.rc == LL_E_PARSE && rt.n == ref.n && rt.n == 4 &&
              rt.fault == RIO_TRUNCATED_PAYLOAD && rt.err.offset == ref.err.offset);
    }
    free(b.p);
}

static void max_len_limit(void)
{
    tsup_buf b = {0};
    uint8_t p[64] = {0};
    hframe(&b, 0, p, 10);
    hframe(&b, 0, p, 16);
    hframe(&b, 0, p, 17); /* at 44 */
    got g;
    read_mem(b.p, b.n, LL_SPLIT_DMLC, 16, &g);
    CHECK(g.n == 2 && g.rc == LL_E_TOOBIG && g.fault == RIO_TOO_LONG);
    CHECK(g.err.offset == 44 && g.err.record == 2 && (g.err.has & LL_ERR_OFFSET));
    /* a split record whose frames are small but whose whole is too long */
    b.n = 0;
    hframe(&b, 0, p, 4);
    hframe(&b, 1, p, 8); /* at 12 */
    hframe(&b, 2, p, 8); /* at 28 */
    hframe(&b, 3, p, 4); /* at 44 */
    read_mem(b.p, b.n, LL_SPLIT_CONCAT, 16, &g);
    CHECK(g.n == 1 && g.rc == LL_E_TOOBIG && g.err.record == 1);
    CHECK(g.err.offset == 44);
    read_mem(b.p, b.n, LL_SPLIT_CONCAT, 20, &g);
    CHECK(g.n == 2 && g.rc == LL_OK && g.len[1] == 20);
    read_mem(b.p, b.n, LL_SPLIT_DMLC, 20, &g); /* 8+4+8+4+4 = 28 > 20 */
    CHECK(g.n == 1 && g.rc == LL_E_TOOBIG);
    /* through the parser's max_record_len */
    ll_err err;
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    o.format = LL_FMT_RECORDIO;
    o.max_record_len = 100;
    b.n = 0;
    uint8_t q[200] = {0};
    hframe(&b, 0, q, 150);
    ll_reader *rd = ll_reader_mem(b.p, b.n, "big.pbr");
    ll_parser *ps;
    CHECK_OK(ll_parser_new(rd, &o, &ps, &err));
    ll_batch bt;
    ll_batch_init(&bt);
    int eof = 0;
    ll_code rc = ll_parser_next(ps, &bt, 10, &eof, &err);
    CHECK(rc == LL_E_TOOBIG && err.offset == 0 && err.record == 0);
    ll_batch_deinit(&bt);
    ll_parser_free(ps);
    ll_reader_free(rd);
    free(b.p);
}

/* A 12-byte stream declaring a frame of 2^29-1 bytes: truncated_payload, and the reader does
 * not allocate anything near the declared size. */
static void huge_declared_length(void)
{
    tsup_buf b = {0};
    put32(&b, RIO_MAGIC);
    put32(&b, RIO_MAX_LEN);
    put(&b, "abcd", 4);
    ll_err err;
    ll_reader *rd = ll_reader_mem(b.p, b.n, "huge");
    rio_reader r;
    CHECK_OK(rio_reader_init(&r, rd, LL_SPLIT_DMLC, 0, &err));
    const uint8_t *pl;
    size_t len;
    int eof;
    ll_code rc = rio_next(&r, &pl, &len, &eof, &err);
    CHECK(rc == LL_E_PARSE && r.fault == RIO_TRUNCATED_PAYLOAD && err.offset == 0);
    CHECKF(r.buf.cap <= ((size_t)2 << 20), "window grew to %zu bytes", r.buf.cap);
    rio_reader_deinit(&r);
    ll_reader_free(rd);
    free(b.p);
}

/* Frames beyond a file: the concatenation of two streams reads as one (spec 3.8). */
static void concatenated_streams(void)
{
    tsup_buf a = {0};
    hframe(&a, 0, "one", 3);
    hframe(&a, 0, "two!", 4);
    size_t first = a.n;
    hframe(&a, 0, "three", 5);
    got g;
    read_mem(a.p, a.n, LL_SPLIT_DMLC, 0, &g);
    CHECK(g.rc == LL_OK && g.n == 3 && g.off[2] == first);
    free(a.p);
}

int main(void)
{
    TT_BEGIN("test_rio");
    RUN(empty_stream);
    RUN(writer_bytes);
    RUN(zero_length_and_pad);
    RUN(truncation_every_byte);
    RUN(truncation_parser);
    RUN(bad_magic);
    RUN(cflag_sequences);
    RUN(dmlc_writer);
    RUN(piecewise);
    RUN(max_len_limit);
    RUN(huge_declared_length);
    RUN(concatenated_streams);
    TT_END();
}
