/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rio.h - RecordIO framing (dmlc-core / SageMaker), reader and writer.
 *
 * A stream is a sequence of frames; all words little-endian; every frame starts 4-aligned.
 *
 *   offset  size        field
 *   0       4           magic 0xCED7230A (bytes 0A 23 D7 CE)
 *   4       4           lrecord = cflag << 29 | len   (cflag: bits 29..31, len: bits 0..28)
 *   8       len         data
 *   8+len   (4-len%4)%4 zero padding
 *
 *   cflag 0  a whole record in one frame        cflag 1  first frame of a split record
 *   cflag 2  a middle frame                     cflag 3  the last frame
 *   cflag 4..7 never occur (an error).
 *
 * Split records are reassembled in one of two conventions (ll_split_mode): dmlc-core, where
 * the writer cut the payload at each 4-aligned occurrence of the magic and left the magic out
 * (so the reader puts 0A 23 D7 CE back between frames), or plain fragments (concatenated).
 * LL_SPLIT_AUTO reassembles both ways: rio_next hands out the dmlc-core one and rio_alt the
 * plain one, and the caller keeps the one that decodes. Reading is strict: a partial header, bad
 * magic, a short payload or missing pad, and a cflag out of sequence are errors carrying the byte
 * offset of the frame and the record index. The reader never seeks; it works on any stream however
 * its bytes arrive.
 */
#ifndef LL_RIO_H
#define LL_RIO_H
#include "linlearn.h"
#include "rd.h"

#define RIO_MAGIC 0xCED7230Au
#define RIO_MAX_LEN ((1u << 29) - 1)

typedef enum {
    RIO_OK = 0,
    RIO_TRUNCATED_HEADER,
    RIO_BAD_MAGIC,
    RIO_TRUNCATED_PAYLOAD,
    RIO_UNEXPECTED_CFLAG,
    RIO_TOO_LONG,
} rio_fault;

/* "truncated_header", "bad_magic", ... as in the test vectors' JSON. */
const char *rio_fault_name(rio_fault f);

typedef struct rio_reader {
    rd_buf buf;
    ll_split_mode split;
    size_t max_len;   /* largest (reassembled) payload accepted */
    uint8_t *scratch; /* reassembly of split records */
    size_t scratch_cap;
    uint8_t *alt; /* LL_SPLIT_AUTO: the plain reassembly of the same frames */
    size_t alt_cap, alt_len;
    uint64_t n_records; /* records delivered so far */
    uint64_t rec_off;   /* source offset of the last delivered record's first header */
    uint32_t n_frames;  /* frames of the last delivered record */
    rio_fault fault;    /* what the last error was, for callers that classify */
    const char *src;
} rio_reader;

/* rd is borrowed. max_len 0 means RIO_MAX_LEN. */
ll_code rio_reader_init(rio_reader *r, ll_reader *rd, ll_split_mode split, size_t max_len,
                        ll_err *err);
void rio_reader_deinit(rio_reader *r);

/* Next record's payload; valid until the next call. At the end of the stream *eof is set. */
ll_code rio_next(rio_reader *r, const uint8_t **payload, size_t *len, int *eof, ll_err *err);

/* LL_SPLIT_AUTO, after rio_next delivered a record of more than one frame: the record
 * reassembled as plain fragments (valid until the next rio_next). Returns 0 (and nothing) when
 * there is no other reading: a single frame, or another mode. */
int rio_alt(const rio_reader *r, const uint8_t **payload, size_t *len);

/* Bytes a frame of a len-byte payload occupies (header, data and pad). */
static inline size_t rio_frame_size(size_t len)
{
    return 8 + ((len + 3) & ~(size_t)3);
}

/* Writes one record as a single frame (cflag 0), as the SageMaker SDK does. */
ll_code rio_write(ll_writer *w, const void *payload, size_t len, ll_err *err);
/* Writes one record the dmlc-core way: split at each 4-aligned magic, magic left out. */
ll_code rio_write_dmlc(ll_writer *w, const void *payload, size_t len, ll_err *err);
/* Frames payload into out (which needs rio_frame_size(len) bytes); returns bytes written. */
size_t rio_frame(uint8_t *out, const void *payload, size_t len);
#endif
