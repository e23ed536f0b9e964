/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rd_net.h - the streaming-source backends: HTTP(S)/S3 GET with resume (rd_http.c), the
 * object list behind folders, globs, S3 prefixes and manifests (rd_multi.c), the prefetch
 * wrapper (prefetch.c) and the pipe-mode FIFO feeder (pipe.c). rd.c dispatches to them.
 */
#ifndef LL_RD_NET_H
#define LL_RD_NET_H
#include "rd.h"
#include "s3.h"

/* A streaming GET of url. cfg (borrowed, must outlive the reader) signs the requests for S3,
 * NULL for plain HTTP(S). size: the object's size when known from a listing, else
 * UINT64_MAX. bucket/key (may be NULL) name the object in S3 error messages. A failed or cut
 * transfer is resumed with a Range request from the first byte not yet received (If-Match
 * the first answer's ETag), with capped exponential back-off. Opening starts the request
 * without waiting for it. */
ll_code rd_http_open(const char *url, const s3_cfg *cfg, const s3_cfg *plain, const char *name,
                     const char *bucket, const char *key, uint64_t size, ll_reader **out,
                     ll_err *err);
/* Lets an opened rd_http reader make progress without blocking (read-ahead of the next
 * object); a no-op for other readers. */
void rd_http_poke(ll_reader *r);
/* A URL's name for messages: without user information, query or fragment. */
void rd_safe_name(const char *url, char *out, size_t cap);
/* Bytes of buffer one rd_http reader holds at most. */
#define RD_HTTP_BUF ((size_t)1 << 20)

/* One object of a multi-object source. */
typedef struct rd_obj {
    char *name; /* path, URL or S3 key */
    char *rel;  /* name relative to the prefix/folder (File-mode copies) */
    uint64_t size;
} rd_obj;

/* The expanded object list of a source (folder, glob, s3 prefix/object, manifest, URL, file),
 * after shuffle and sharding per o. */
typedef struct rd_list {
    int kind; /* RD_FILE, RD_HTTP, RD_S3 */
    rd_obj *objs;
    size_t n;
    char *bucket; /* S3 */
    s3_cfg cfg;   /* S3 */
    int has_cfg;
    s3_cfg plain; /* plain HTTP: the retry settings only */
    char name[128];
} rd_list;
enum { RD_FILE = 1, RD_HTTP = 2, RD_S3 = 3 };

/* Whether src names something rd_multi handles (not a plain file, FIFO or stdin). */
int rd_multi_wants(const char *src, const ll_source_opts *o);
ll_code rd_list_build(const char *src, const ll_source_opts *o, rd_list *l, ll_err *err);
void rd_list_deinit(rd_list *l);
/* Opens object i of the list. */
ll_code rd_list_open(rd_list *l, size_t i, ll_reader **out, ll_err *err);
/* A reader over the concatenation of src's objects (takes the settings from o). */
ll_code rd_multi_open(const char *src, const ll_source_opts *o, ll_reader **out, ll_err *err);

/* Shuffles idx[0..n) deterministically for (seed, epoch). */
void rd_shuffle(size_t *idx, size_t n, uint64_t seed, uint64_t epoch);

/* Makes a reader from rd_fd_open wait for data in 50 ms slices and fail with LL_E_STATE once
 * *stop is non-zero (read atomically). */
void rd_fd_set_stop(ll_reader *r, const volatile int *stop);
/* Opens a Pipe-mode FIFO (or file) at path for reading without blocking: each read waits for
 * data in slices, failing with LL_E_IO after timeout_ms without a byte (no writer, or a silent
 * one) and with LL_E_STATE once *stop (may be NULL) is set. */
ll_code rd_fifo_open(const char *path, unsigned timeout_ms, const volatile int *stop,
                     ll_reader **out, ll_err *err);

/* Wraps inner (takes ownership) in the gzip sniffer/inflater of rd_gz.c; mode is
 * LL_COMPRESSION_*. With NONE, *out is inner itself. */
ll_code rd_gz_wrap(ll_reader *inner, int mode, ll_reader **out, ll_err *err);

/* Wraps inner (takes ownership) in a prefetch thread holding up to max_bytes of read-ahead. */
ll_code prefetch_wrap(ll_reader *inner, size_t max_bytes, ll_reader **out, ll_err *err);
#endif
