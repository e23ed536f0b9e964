/* SPDX-License-Identifier: Apache-2.0 */
/* wr.h - the writer interface: a buffered front over one backend (file via temporary name and
 * rename, stdout, and later object stores). Backends see only whole buffers. */
#ifndef LL_WR_H
#define LL_WR_H
#include "linlearn.h"

typedef struct wr_backend {
    /* Writes all len bytes or fails. */
    ll_code (*write)(struct wr_backend *self, const void *p, size_t len, ll_err *err);
    /* Makes the data durable and visible under the final name; frees the backend. */
    ll_code (*commit)(struct wr_backend *self, ll_err *err);
    /* Discards everything and frees the backend. */
    void (*abort)(struct wr_backend *self);
} wr_backend;

/* A writer over a backend (takes ownership of it). */
ll_code wr_new(wr_backend *be, const char *name, ll_writer **out, ll_err *err);
/* File backend: dst written as dst's folder/.name.tmp.XXXXXX and renamed on commit. */
ll_code wr_file_backend(const char *dst, wr_backend **out, ll_err *err);
/* Descriptor backend (stdout); the descriptor is not closed. */
ll_code wr_fd_backend(int fd, const char *name, wr_backend **out, ll_err *err);
/* S3 backend (wr_s3.c): "s3://bucket/key", a PUT or a multipart upload completed on commit. */
ll_code wr_s3_backend(const char *dst, const ll_source_opts *o, wr_backend **out, ll_err *err);
const char *wr_name(const ll_writer *w);
/* Writes a whole file atomically: len bytes under a temporary name, renamed onto path (see
 * ll_writer_open; s3:// too). Nothing is left under path on failure. */
ll_code wr_write_file(const char *path, const void *data, size_t len, ll_err *err);
/* Creates a folder and its missing parents (like mkdir -p). */
ll_code wr_mkdirs(const char *path, ll_err *err);
#endif
