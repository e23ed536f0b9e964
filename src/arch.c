/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arch.c - archives for model files: reading tar / tar.gz / zip through libarchive (the only
 * file that includes it), writing ustar through libarchive with our own gzip layer (zlib, so
 * that the header matches SageMaker's), and a small writer of stored zips (layout in arch.h).
 */
#include "arch.h"
#include "err.h"
#include "mem.h"
#include "wr.h"
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define MAX_MEMBERS 4096

static ll_code arch_fail(struct archive *a, ll_code code, const char *what, const char *src,
                         ll_err *err)
{
    const char *s = archive_error_string(a);
    err_set(err, code, "%s: %s", what, s ? s : "unknown archive error");
    return err_src(err, src);
}

void arch_list_free(arch_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        mem_free(l->m[i].name);
        mem_free(l->m[i].data);
    }
    mem_free(l->m);
    memset(l, 0, sizeof *l);
}

const arch_member *arch_find(const arch_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->m[i].name, name))
            return &l->m[i];
    return NULL;
}

/* Reads all members of an opened archive into out. */
static ll_code read_members(struct archive *a, const char *src, uint64_t cap, arch_list *out,
                            ll_err *err)
{
    struct archive_entry *e;
    uint64_t total = 0;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (archive_format(a) == ARCHIVE_FORMAT_ZIP ||
            (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP)
            out->zip = 1;
        if (archive_entry_filetype(e) != AE_IFREG)
            continue;
        const char *name = archive_entry_pathname(e);
        if (!name)
            name = "";
        while (!strncmp(name, "./", 2))
            name += 2;
        if (out->n >= MAX_MEMBERS) {
            err_set(err, LL_E_TOOBIG, "the archive holds more than %d files", MAX_MEMBERS);
            return err_src(err, src);
        }
        la_int64_t sz = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
        if (sz < 0 || (uint64_t)sz > cap - total) {
            err_set(err, sz < 0 ? LL_E_PARSE : LL_E_TOOBIG,
                    "%s inside the archive has %s size %lld (the limit for all files is %llu "
                    "bytes)",
                    name, sz < 0 ? "an unknown" : "a", (long long)sz, (unsigned long long)cap);
            return err_src(err, src);
        }
        arch_member *grown = mem_realloc_array(out->m, out->n + 1, sizeof *out->m);
        if (!grown)
            return err_set(err, LL_E_NOMEM, "out of memory reading an archive");
        out->m = grown;
        arch_member *m = &out->m[out->n];
        memset(m, 0, sizeof *m);
        m->name = mem_strdup(name);
        m->data = mem_alloc(sz ? (size_t)sz : 1);
        out->n++;
        if (!m->name || !m->data)
            return err_set(err, LL_E_NOMEM, "out of memory for %lld bytes of %s", (long long)sz,
                           name);
        size_t got = 0;
        while (got < (size_t)sz) {
            la_ssize_t k = archive_read_data(a, m->data + got, (size_t)sz - got);
            if (k <= 0)
                return arch_fail(a, LL_E_PARSE, "the archive is truncated or damaged", src, err);
            got += (size_t)k;
        }
        m->len = got;
        total += got;
    }
    if (r != ARCHIVE_EOF)
        return arch_fail(a, LL_E_PARSE,
                         "not a model archive (tar, tar.gz or zip), or a damaged one", src, err);
    return LL_OK;
}

static struct archive *reader_new(void)
{
    struct archive *a = archive_read_new();
    if (a) {
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        archive_read_support_format_zip(a);
    }
    return a;
}

static ll_code read_any(struct archive *a, int opened, const char *src, uint64_t cap,
                        arch_list *out, ll_err *err)
{
    memset(out, 0, sizeof *out);
    ll_code rc;
    if (!opened)
        rc = arch_fail(a, LL_E_PARSE, "not a model archive (tar, tar.gz or zip)", src, err);
    else
        rc = read_members(a, src, cap, out, err);
    archive_read_free(a);
    if (rc != LL_OK)
        arch_list_free(out);
    return rc;
}

ll_code arch_read_file(const char *path, uint64_t cap, arch_list *out, ll_err *err)
{
    memset(out, 0, sizeof *out);
    struct archive *a = reader_new();
    if (!a)
        return err_set(err, LL_E_NOMEM, "cannot start an archive reader");
    int ok = archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK;
    return read_any(a, ok, path, cap, out, err);
}

ll_code arch_read_mem(const void *p, size_t len, const char *src, uint64_t cap, arch_list *out,
                      ll_err *err)
{
    memset(out, 0, sizeof *out);
    struct archive *a = reader_new();
    if (!a)
        return err_set(err, LL_E_NOMEM, "cannot start an archive reader");
    int ok = archive_read_open_memory(a, p, len) == ARCHIVE_OK;
    return read_any(a, ok, src, cap, out, err);
}

/* ---- writing ---- */

typedef struct membuf {
    unsigned char *p;
    size_t n, cap;
    int nomem;
} membuf;

static int membuf_add(membuf *b, const void *p, size_t len)
{
    if (len == 0)
        return 0;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->n + len)
            cap *= 2;
        unsigned char *q = mem_realloc(b->p, cap);
        if (!q) {
            b->nomem = 1;
            return -1;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, len);
    b->n += len;
    return 0;
}

static la_ssize_t membuf_cb(struct archive *a, void *ud, const void *buf, size_t len)
{
    if (membuf_add(ud, buf, len)) {
        archive_set_error(a, ENOMEM, "out of memory");
        return -1;
    }
    return (la_ssize_t)len;
}

static int add_entry(struct archive *a, const arch_member *m, int64_t mtime)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        return -1;
    archive_entry_set_pathname(e, m->name);
    archive_entry_set_size(e, (la_int64_t)m->len);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, (time_t)mtime, 0);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK)
        return -1;
    const unsigned char *c = m->data;
    size_t len = m->len;
    while (len > 0) {
        size_t k = len > (1u << 26) ? (1u << 26) : len;
        la_ssize_t w = archive_write_data(a, c, k);
        if (w <= 0)
            return -1;
        c += w;
        len -= (size_t)w;
    }
    return 0;
}

/* gzip of p into w, in chunks: the member header SageMaker's artifacts have (no name or time,
 * XFL 0, OS 255), a raw deflate stream, CRC-32 and length. The stream uses run-length matches
 * only: float weights have almost no longer repeats, so zlib's default search finds nothing
 * for its time (400 KB of weights: 12 ms at level 6, 3.3 ms this way, the archive 0.1 % larger),
 * while the runs of zero bytes l1 leaves are still found. */
static ll_code gzip_to(ll_writer *w, const unsigned char *p, size_t len, ll_err *err)
{
    static const unsigned char head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_RLE) != Z_OK)
        return err_set(err, LL_E_NOMEM, "cannot start gzip");
    ll_code rc = ll_writer_write(w, head, sizeof head, err);
    unsigned char out[1 << 16];
    uLong crc = crc32(0L, Z_NULL, 0);
    uint32_t isize = (uint32_t)len; /* the length mod 2^32, as RFC 1952 has it */
    int zr = Z_OK;
    z.next_in = (Bytef *)p;
    while (rc == LL_OK && zr != Z_STREAM_END) {
        size_t take = len > (1u << 30) ? (1u << 30) : len;
        if (z.avail_in == 0 && take) {
            crc = crc32(crc, z.next_in, (uInt)take);
            z.avail_in = (uInt)take;
            len -= take;
        }
        z.next_out = out;
        z.avail_out = sizeof out;
        zr = deflate(&z, len == 0 ? Z_FINISH : Z_NO_FLUSH);
        size_t have = sizeof out - z.avail_out;
        if (zr == Z_STREAM_ERROR)
            rc = err_set(err, LL_E_STATE, "gzip did not finish");
        else if (have)
            rc = ll_writer_write(w, out, have, err);
    }
    deflateEnd(&z);
    unsigned char tail[8];
    for (int i = 0; i < 4; i++) {
        tail[i] = (unsigned char)(crc >> (8 * i));
        tail[4 + i] = (unsigned char)(isize >> (8 * i));
    }
    return rc == LL_OK ? ll_writer_write(w, tail, sizeof tail, err) : rc;
}

ll_code arch_write_targz(ll_writer *w, const arch_member *m, size_t n, int64_t mtime, ll_err *err)
{
    struct archive *a = archive_write_new();
    if (!a)
        return err_set(err, LL_E_NOMEM, "cannot start an archive");
    membuf b = {0};
    archive_write_set_format_ustar(a);
    int ok = archive_write_open(a, &b, NULL, membuf_cb, NULL) == ARCHIVE_OK;
    for (size_t i = 0; ok && i < n; i++)
        ok = add_entry(a, &m[i], mtime) == 0;
    ok = ok && archive_write_close(a) == ARCHIVE_OK;
    ll_code rc = LL_OK;
    if (!ok)
        rc = b.nomem ? err_set(err, LL_E_NOMEM, "out of memory writing an archive")
                     : arch_fail(a, LL_E_IO, "cannot write the model archive", wr_name(w), err);
    archive_write_free(a);
    if (rc == LL_OK)
        rc = gzip_to(w, b.p, b.n, err);
    mem_free(b.p);
    return rc;
}

static void put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

static uint32_t crc_of(const unsigned char *p, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (len > 0) {
        uInt k = len > (1u << 30) ? (1u << 30) : (uInt)len;
        c = crc32(c, p, k);
        p += k;
        len -= k;
    }
    return (uint32_t)c;
}

ll_code arch_zip_stored(const arch_member *m, size_t n, int64_t mtime, unsigned char **out,
                        size_t *len, ll_err *err)
{
    *out = NULL;
    *len = 0;
    time_t t = (time_t)mtime;
    struct tm tm;
    gmtime_r(&t, &tm);
    if (tm.tm_year < 80)
        tm = (struct tm){.tm_year = 80, .tm_mday = 1};
    unsigned dtime = (unsigned)(tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
    unsigned ddate = (unsigned)((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
    membuf b = {0}, cd = {0};
    uint32_t *offs = mem_calloc(n ? n : 1, sizeof *offs);
    if (!offs)
        return err_set(err, LL_E_NOMEM, "out of memory writing a zip");
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(m[i].name);
        if (m[i].len > 0xFFFFFFFEu || nl > 0xFFFF || b.n > 0xFFFFFFFEu - m[i].len - 30 - nl) {
            mem_free(offs);
            mem_free(b.p);
            return err_set(err, LL_E_TOOBIG, "%s is too large for a zip without zip64", m[i].name);
        }
        unsigned char h[30];
        put32(h, 0x04034b50);
        put16(h + 4, 20);
        put16(h + 6, 0);
        put16(h + 8, 0);
        put16(h + 10, dtime);
        put16(h + 12, ddate);
        put32(h + 14, crc_of(m[i].data, m[i].len));
        put32(h + 18, (uint32_t)m[i].len);
        put32(h + 22, (uint32_t)m[i].len);
        put16(h + 26, (unsigned)nl);
        put16(h + 28, 0);
        offs[i] = (uint32_t)b.n;
        membuf_add(&b, h, 30);
        membuf_add(&b, m[i].name, nl);
        membuf_add(&b, m[i].data, m[i].len);
        unsigned char c[46];
        put32(c, 0x02014b50);
        put16(c + 4, 0x0314);
        memcpy(c + 6, h + 4, 26);
        put16(c + 32, 0); /* comment length */
        put16(c + 34, 0); /* disk */
        put16(c + 36, 0); /* internal attributes */
        put32(c + 38, 0100644u << 16);
        put32(c + 42, offs[i]);
        membuf_add(&cd, c, 46);
        membuf_add(&cd, m[i].name, nl);
    }
    unsigned char e[22];
    put32(e, 0x06054b50);
    put16(e + 4, 0);
    put16(e + 6, 0);
    put16(e + 8, (unsigned)n);
    put16(e + 10, (unsigned)n);
    put32(e + 12, (uint32_t)cd.n);
    put32(e + 16, (uint32_t)b.n);
    put16(e + 20, 0);
    membuf_add(&b, cd.p, cd.n);
    membuf_add(&b, e, 22);
    mem_free(offs);
    mem_free(cd.p);
    if (b.nomem || cd.nomem) {
        mem_free(b.p);
        return err_set(err, LL_E_NOMEM, "out of memory writing a zip");
    }
    *out = b.p;
    *len = b.n;
    return LL_OK;
}
