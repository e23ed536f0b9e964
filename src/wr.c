/* SPDX-License-Identifier: Apache-2.0 */
/* wr.c - buffered writers; the file backend writes to a temporary name and renames on commit
 * so that no partial output ever stands under the final name. */
#include "wr.h"
#include "err.h"
#include "mem.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WR_BUF (1u << 18)

struct ll_writer {
    wr_backend *be;
    uint8_t *buf;
    size_t n;
    uint64_t offset;
    char name[128];
};

ll_code wr_new(wr_backend *be, const char *name, ll_writer **out, ll_err *err)
{
    *out = NULL;
    ll_writer *w = mem_calloc(1, sizeof *w);
    uint8_t *buf = mem_alloc(WR_BUF);
    if (!w || !buf) {
        mem_free(w);
        mem_free(buf);
        be->abort(be);
        return err_set(err, LL_E_NOMEM, "out of memory opening %s", name);
    }
    w->be = be;
    w->buf = buf;
    snprintf(w->name, sizeof w->name, "%s", name);
    *out = w;
    return LL_OK;
}

const char *wr_name(const ll_writer *w)
{
    return w->name;
}

ll_code ll_writer_open(const char *dst, ll_writer **out, ll_err *err)
{
    return ll_writer_open_ex(dst, NULL, out, err);
}

ll_code ll_writer_open_ex(const char *dst, const ll_source_opts *o, ll_writer **out, ll_err *err)
{
    *out = NULL;
    wr_backend *be;
    ll_code rc;
    if (!dst || !*dst)
        return err_set(err, LL_E_ARG, "empty destination name");
    if (strcmp(dst, "-") == 0)
        rc = wr_fd_backend(1, "stdout", &be, err);
    else if (strncmp(dst, "s3://", 5) == 0)
        rc = wr_s3_backend(dst, o, &be, err);
    else
        rc = wr_file_backend(dst, &be, err);
    if (rc != LL_OK)
        return rc;
    return wr_new(be, strcmp(dst, "-") == 0 ? "stdout" : dst, out, err);
}

static ll_code flush(ll_writer *w, ll_err *err)
{
    if (!w->n)
        return LL_OK;
    ll_code rc = w->be->write(w->be, w->buf, w->n, err);
    w->n = 0;
    return rc;
}

ll_code ll_writer_write(ll_writer *w, const void *p, size_t len, ll_err *err)
{
    w->offset += len;
    if (w->n + len <= WR_BUF) {
        memcpy(w->buf + w->n, p, len);
        w->n += len;
        return LL_OK;
    }
    ll_code rc = flush(w, err);
    if (rc != LL_OK)
        return rc;
    if (len >= WR_BUF / 2)
        return w->be->write(w->be, p, len, err);
    memcpy(w->buf, p, len);
    w->n = len;
    return LL_OK;
}

uint64_t ll_writer_offset(const ll_writer *w)
{
    return w->offset;
}

ll_code ll_writer_commit(ll_writer *w, ll_err *err)
{
    if (!w)
        return LL_OK;
    ll_code rc = flush(w, err);
    if (rc == LL_OK)
        rc = w->be->commit(w->be, err);
    else
        w->be->abort(w->be);
    mem_free(w->buf);
    mem_free(w);
    return rc;
}

void ll_writer_abort(ll_writer *w)
{
    if (!w)
        return;
    w->be->abort(w->be);
    mem_free(w->buf);
    mem_free(w);
}

/* ---- descriptor and file backends ---- */

typedef struct {
    wr_backend be;
    int fd;
    int own;
    char *tmp; /* temporary path (file backend) */
    char *dst; /* final path (file backend) */
    char name[128];
} wr_fd;

static ll_code fd_write(wr_backend *self, const void *p, size_t len, ll_err *err)
{
    wr_fd *f = (wr_fd *)self;
    const uint8_t *q = p;
    while (len) {
        ssize_t k = write(f->fd, q, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return err_sys(err, f->name, "write failed");
        }
        q += k;
        len -= (size_t)k;
    }
    return LL_OK;
}

static void fd_free(wr_fd *f)
{
    mem_free(f->tmp);
    mem_free(f->dst);
    mem_free(f);
}

static ll_code fd_commit(wr_backend *self, ll_err *err)
{
    wr_fd *f = (wr_fd *)self;
    ll_code rc = LL_OK;
    if (f->own) {
        if (close(f->fd) != 0)
            rc = err_sys(err, f->name, "close failed");
        f->own = 0;
    }
    if (rc == LL_OK && f->tmp && rename(f->tmp, f->dst) != 0)
        rc = err_sys(err, f->name, "cannot rename the finished output into place");
    if (rc != LL_OK && f->tmp)
        unlink(f->tmp);
    fd_free(f);
    return rc;
}

static void fd_abort(wr_backend *self)
{
    wr_fd *f = (wr_fd *)self;
    if (f->own)
        close(f->fd);
    if (f->tmp)
        unlink(f->tmp);
    fd_free(f);
}

ll_code wr_fd_backend(int fd, const char *name, wr_backend **out, ll_err *err)
{
    wr_fd *f = mem_calloc(1, sizeof *f);
    if (!f)
        return err_set(err, LL_E_NOMEM, "out of memory");
    f->be.write = fd_write;
    f->be.commit = fd_commit;
    f->be.abort = fd_abort;
    f->fd = fd;
    snprintf(f->name, sizeof f->name, "%s", name);
    *out = &f->be;
    return LL_OK;
}

ll_code wr_file_backend(const char *dst, wr_backend **out, ll_err *err)
{
    struct stat st;
    int exists = stat(dst, &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        return err_set(err, LL_E_ARG, "is a folder; give a file name"), err_src(err, dst);
    if (exists && !S_ISREG(st.st_mode)) {
        /* a device or a FIFO (/dev/stdout, /dev/full, a named pipe) is written in place: a
         * rename would replace it with a regular file */
        int fd = open(dst, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return err_sys(err, dst, "cannot open the output");
        ll_code rc = wr_fd_backend(fd, dst, out, err);
        if (rc != LL_OK)
            close(fd);
        else
            ((wr_fd *)*out)->own = 1;
        return rc;
    }
    size_t n = strlen(dst);
    const char *slash = strrchr(dst, '/');
    size_t dir_len = slash ? (size_t)(slash - dst) + 1 : 0;
    char *tmp = mem_alloc(n + 32);
    char *d = mem_strdup(dst);
    wr_fd *f = mem_calloc(1, sizeof *f);
    if (!tmp || !d || !f) {
        mem_free(tmp);
        mem_free(d);
        mem_free(f);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    memcpy(tmp, dst, dir_len);
    snprintf(tmp + dir_len, n + 32 - dir_len, ".%s.tmp.XXXXXX", dst + dir_len);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        ll_code rc = err_sys(err, dst, "cannot create a file next to the output");
        mem_free(tmp);
        mem_free(d);
        mem_free(f);
        return rc;
    }
    fchmod(fd, 0644);
    f->be.write = fd_write;
    f->be.commit = fd_commit;
    f->be.abort = fd_abort;
    f->fd = fd;
    f->own = 1;
    f->tmp = tmp;
    f->dst = d;
    snprintf(f->name, sizeof f->name, "%s", dst);
    *out = &f->be;
    return LL_OK;
}

ll_code wr_mkdirs(const char *path, ll_err *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return err_set(err, LL_E_ARG, "path too long");
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p)
            continue;
        char c = *p;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return err_sys(err, tmp, "cannot create the folder");
        *p = c;
        if (!c)
            break;
    }
    return LL_OK;
}

ll_code wr_write_file(const char *path, const void *data, size_t len, ll_err *err)
{
    ll_writer *w = NULL;
    ll_code rc = ll_writer_open(path, &w, err);
    if (rc != LL_OK)
        return rc;
    rc = ll_writer_write(w, data, len, err);
    if (rc != LL_OK) {
        ll_writer_abort(w);
        return rc;
    }
    return ll_writer_commit(w, err);
}
