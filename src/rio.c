/* SPDX-License-Identifier: Apache-2.0 */
/* rio.c - RecordIO framing; the byte layout is in rio.h. Payloads are handed out without
 * copying when a record is a single frame; split records are reassembled in a scratch buffer. */
#include "rio.h"
#include "err.h"
#include "mem.h"
#include <stdio.h>
#include <string.h>

static const uint8_t MAGIC_BYTES[4] = {0x0A, 0x23, 0xD7, 0xCE};
static const uint8_t ZEROS[4];

const char *rio_fault_name(rio_fault f)
{
    switch (f) {
    case RIO_OK:
        return "none";
    case RIO_TRUNCATED_HEADER:
        return "truncated_header";
    case RIO_BAD_MAGIC:
        return "bad_magic";
    case RIO_TRUNCATED_PAYLOAD:
        return "truncated_payload";
    case RIO_UNEXPECTED_CFLAG:
        return "unexpected_cflag";
    case RIO_TOO_LONG:
        return "too_long";
    }
    return "?";
}

static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

ll_code rio_reader_init(rio_reader *r, ll_reader *rd, ll_split_mode split, size_t max_len,
                        ll_err *err)
{
    memset(r, 0, sizeof *r);
    r->split = split;
    r->max_len = max_len && max_len < RIO_MAX_LEN ? max_len : RIO_MAX_LEN;
    r->src = ll_reader_name(rd);
    size_t max_buf = rio_frame_size(r->max_len) + 8;
    return rd_buf_init(&r->buf, rd, (size_t)1 << 20, max_buf, err);
}

void rio_reader_deinit(rio_reader *r)
{
    rd_buf_deinit(&r->buf);
    mem_free(r->scratch);
    mem_free(r->alt);
    memset(r, 0, sizeof *r);
}

static ll_code fault(rio_reader *r, rio_fault f, uint64_t off, ll_code code, const char *msg,
                     ll_err *err)
{
    r->fault = f;
    err_set(err, code, "%s: %s", rio_fault_name(f), msg);
    return err_rec(err, r->src, off, r->n_records);
}

/* Reads and checks the frame header at the window's front; on success the whole frame (data
 * and pad) is in the window. */
static ll_code frame(rio_reader *r, uint32_t *cflag, size_t *len, int *at_eof, ll_err *err)
{
    rd_buf *b = &r->buf;
    ll_code rc = rd_buf_fill(b, 8, err);
    if (rc != LL_OK)
        return err_rec(err, r->src, rd_buf_pos(b), r->n_records);
    size_t avail = rd_buf_avail(b);
    uint64_t pos = rd_buf_pos(b);
    *at_eof = 0;
    if (avail == 0) {
        *at_eof = 1;
        return LL_OK;
    }
    char msg[160];
    if (avail < 8) {
        snprintf(msg, sizeof msg, "the stream ends %zu bytes into an 8-byte frame header", avail);
        return fault(r, RIO_TRUNCATED_HEADER, pos, LL_E_PARSE, msg, err);
    }
    const uint8_t *h = b->p + b->beg;
    uint32_t magic = rd32(h);
    if (magic != RIO_MAGIC) {
        if (magic == 0x0A23D7CEu)
            snprintf(msg, sizeof msg,
                     "found CE D7 23 0A: a big-endian header; RecordIO is little-endian "
                     "(expected 0A 23 D7 CE)");
        else
            snprintf(msg, sizeof msg, "expected the magic 0A 23 D7 CE, found %02X %02X %02X %02X",
                     h[0], h[1], h[2], h[3]);
        return fault(r, RIO_BAD_MAGIC, pos, LL_E_PARSE, msg, err);
    }
    uint32_t lrec = rd32(h + 4);
    *cflag = lrec >> 29;
    *len = lrec & RIO_MAX_LEN;
    if (*len > r->max_len) {
        snprintf(msg, sizeof msg, "a frame of %zu bytes exceeds the limit of %zu bytes", *len,
                 r->max_len);
        return fault(r, RIO_TOO_LONG, pos, LL_E_TOOBIG, msg, err);
    }
    size_t need = rio_frame_size(*len);
    /* Grow the window in steps that at most double what has actually arrived, so that a
     * corrupt length in a short stream cannot make us allocate up to max_len at once. */
    while (rd_buf_avail(b) < need && !b->eof) {
        size_t step = rd_buf_avail(b) * 2;
        if (step < ((size_t)1 << 20))
            step = (size_t)1 << 20;
        if (step > need)
            step = need;
        rc = rd_buf_fill(b, step, err);
        if (rc != LL_OK)
            return err_rec(err, r->src, pos, r->n_records);
    }
    if (rd_buf_avail(b) < need) {
        snprintf(msg, sizeof msg,
                 "the frame declares %zu data bytes (%zu with pad) but the stream ends after %zu",
                 *len, need - 8, rd_buf_avail(b) - 8);
        return fault(r, RIO_TRUNCATED_PAYLOAD, pos, LL_E_PARSE, msg, err);
    }
    return LL_OK;
}

static ll_code buf_append(rio_reader *r, uint8_t **buf, size_t *bcap, size_t *n, const uint8_t *p,
                          size_t len, uint64_t pos, ll_err *err)
{
    if (*n + len > r->max_len) {
        char msg[128];
        snprintf(msg, sizeof msg, "a split record grows past the limit of %zu bytes", r->max_len);
        return fault(r, RIO_TOO_LONG, pos, LL_E_TOOBIG, msg, err);
    }
    if (*n + len > *bcap) {
        size_t cap = *bcap ? *bcap : 4096;
        while (cap < *n + len)
            cap *= 2;
        uint8_t *s = mem_realloc(*buf, cap);
        if (!s)
            return err_set(err, LL_E_NOMEM, "out of memory reassembling a split record");
        *buf = s;
        *bcap = cap;
    }
    if (len)
        memcpy(*buf + *n, p, len);
    *n += len;
    return LL_OK;
}

static ll_code scratch_append(rio_reader *r, size_t *n, const uint8_t *p, size_t len, uint64_t pos,
                              ll_err *err)
{
    return buf_append(r, &r->scratch, &r->scratch_cap, n, p, len, pos, err);
}

int rio_alt(const rio_reader *r, const uint8_t **payload, size_t *len)
{
    if (r->split != LL_SPLIT_AUTO || r->n_frames < 2)
        return 0;
    *payload = r->alt ? r->alt : ZEROS;
    *len = r->alt_len;
    return 1;
}

ll_code rio_next(rio_reader *r, const uint8_t **payload, size_t *len, int *eof, ll_err *err)
{
    rd_buf *b = &r->buf;
    uint32_t cflag;
    size_t flen;
    int at_eof;
    *eof = 0;
    *payload = NULL;
    *len = 0;
    r->fault = RIO_OK;
    uint64_t start = rd_buf_pos(b);
    ll_code rc = frame(r, &cflag, &flen, &at_eof, err);
    if (rc != LL_OK)
        return rc;
    if (at_eof) {
        *eof = 1;
        return LL_OK;
    }
    if (cflag != 0 && cflag != 1) {
        char msg[128];
        snprintf(msg, sizeof msg, "a record must start with cflag 0 or 1, found cflag %u", cflag);
        return fault(r, RIO_UNEXPECTED_CFLAG, start, LL_E_PARSE, msg, err);
    }
    if (cflag == 0) {
        *payload = b->p + b->beg + 8;
        *len = flen;
        b->beg += rio_frame_size(flen);
        r->rec_off = start;
        r->n_frames = 1;
        r->n_records++;
        return LL_OK;
    }
    /* split record: collect frames until cflag 3 */
    size_t n = 0;
    r->alt_len = 0;
    uint32_t frames = 0;
    for (;;) {
        uint64_t pos = rd_buf_pos(b);
        if (frames > 0 && r->split != LL_SPLIT_CONCAT) {
            rc = scratch_append(r, &n, MAGIC_BYTES, 4, pos, err);
            if (rc != LL_OK)
                return rc;
        }
        rc = scratch_append(r, &n, b->p + b->beg + 8, flen, pos, err);
        if (rc == LL_OK && r->split == LL_SPLIT_AUTO)
            rc =
                buf_append(r, &r->alt, &r->alt_cap, &r->alt_len, b->p + b->beg + 8, flen, pos, err);
        if (rc != LL_OK)
            return rc;
        b->beg += rio_frame_size(flen);
        frames++;
        if (cflag == 3)
            break;
        pos = rd_buf_pos(b);
        rc = frame(r, &cflag, &flen, &at_eof, err);
        if (rc != LL_OK)
            return rc;
        if (at_eof) {
            r->fault = RIO_TRUNCATED_HEADER;
            err_set(err, LL_E_PARSE,
                    "truncated_header: the stream ends inside a split record (after %u frames, "
                    "expected a frame with cflag 2 or 3)",
                    frames);
            return err_rec(err, r->src, pos, r->n_records);
        }
        if (cflag != 2 && cflag != 3) {
            char msg[128];
            snprintf(msg, sizeof msg,
                     "inside a split record the next frame must have cflag 2 or 3, found %u",
                     cflag);
            return fault(r, RIO_UNEXPECTED_CFLAG, pos, LL_E_PARSE, msg, err);
        }
    }
    *payload = r->scratch ? r->scratch : ZEROS;
    *len = n;
    r->rec_off = start;
    r->n_frames = frames;
    r->n_records++;
    return LL_OK;
}

size_t rio_frame(uint8_t *out, const void *payload, size_t len)
{
    wr32(out, RIO_MAGIC);
    wr32(out + 4, (uint32_t)len);
    if (len)
        memcpy(out + 8, payload, len);
    size_t pad = (4 - len % 4) % 4;
    memset(out + 8 + len, 0, pad);
    return 8 + len + pad;
}

static ll_code write_frame(ll_writer *w, uint32_t cflag, const uint8_t *p, size_t len, ll_err *err)
{
    uint8_t h[8];
    wr32(h, RIO_MAGIC);
    wr32(h + 4, cflag << 29 | (uint32_t)len);
    ll_code rc = ll_writer_write(w, h, 8, err);
    if (rc == LL_OK && len)
        rc = ll_writer_write(w, p, len, err);
    if (rc == LL_OK && len % 4)
        rc = ll_writer_write(w, ZEROS, 4 - len % 4, err);
    return rc;
}

ll_code rio_write(ll_writer *w, const void *payload, size_t len, ll_err *err)
{
    if (len > RIO_MAX_LEN)
        return err_set(err, LL_E_TOOBIG,
                       "a record of %zu bytes cannot be framed (RecordIO allows %u at most)", len,
                       RIO_MAX_LEN);
    return write_frame(w, 0, payload, len, err);
}

ll_code rio_write_dmlc(ll_writer *w, const void *payload, size_t len, ll_err *err)
{
    if (len > RIO_MAX_LEN)
        return err_set(err, LL_E_TOOBIG,
                       "a record of %zu bytes cannot be framed (RecordIO allows %u at most)", len,
                       RIO_MAX_LEN);
    const uint8_t *p = payload;
    size_t start = 0;
    ll_code rc;
    for (size_t i = 0; i + 4 <= len; i += 4) {
        if (memcmp(p + i, MAGIC_BYTES, 4) == 0) {
            rc = write_frame(w, start == 0 ? 1 : 2, p + start, i - start, err);
            if (rc != LL_OK)
                return rc;
            start = i + 4;
        }
    }
    return write_frame(w, start == 0 ? 0 : 3, p + start, len - start, err);
}
