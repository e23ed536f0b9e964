/* SPDX-License-Identifier: Apache-2.0 */
/* rd_file.c - reader backend for file descriptors: regular files, stdin, FIFOs and pipes.
 * Only regular files rewind. A reader given a stop flag or a timeout (pipe mode) waits for data
 * in slices of 50 ms and gives up once the flag is set or no byte came for the timeout; a
 * Pipe-mode FIFO is opened without blocking (rd_fifo_open), so neither a FIFO nobody writes
 * nor a writer that never writes can hold the reader past either. */
#include "err.h"
#include "mem.h"
#include "rd.h"
#include "rd_net.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    ll_reader r;
    int fd;
    int own;
    int regular;
    const volatile int *stop; /* NULL: block in read() */
    unsigned timeout_ms;      /* with a non-blocking fd: longest wait for a byte (0: none) */
} rd_fd;

void rd_fd_set_stop(ll_reader *r, const volatile int *stop)
{
    ((rd_fd *)r)->stop = stop;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Waits until fd has data or its end (a writer came and went): LL_E_STATE once *stop is set,
 * LL_E_IO after timeout_ms without either. */
static ll_code wait_data(rd_fd *f, ll_err *err)
{
    double t0 = now_ms();
    for (;;) {
        if (f->stop && __atomic_load_n(f->stop, __ATOMIC_ACQUIRE))
            return err_set(err, LL_E_STATE, "stopped while waiting for data"),
                   err_at(err, f->r.name, f->r.offset);
        struct pollfd p = {f->fd, POLLIN, 0};
        int k = poll(&p, 1, 50);
        if (k > 0)
            return LL_OK;
        if (k < 0 && errno != EINTR)
            return err_sys(err, f->r.name, "cannot wait for data");
        if (f->timeout_ms && now_ms() - t0 >= f->timeout_ms) {
            err_set(err, LL_E_IO,
                    "no data from the Pipe-mode FIFO for %u ms (--pipe-timeout-ms): nothing opened "
                    "it for writing, or its writer does not write",
                    f->timeout_ms);
            return err_at(err, f->r.name, f->r.offset);
        }
    }
}

static ll_code fd_read(ll_reader *self, void *buf, size_t cap, size_t *n, int *eof, ll_err *err)
{
    rd_fd *f = (rd_fd *)self;
    if (cap == 0)
        return LL_OK;
    ll_code rc;
    if ((f->stop || f->timeout_ms) && (rc = wait_data(f, err)) != LL_OK)
        return rc;
    for (;;) {
        ssize_t k = read(f->fd, buf, cap);
        if (k > 0) {
            *n = (size_t)k;
            return LL_OK;
        }
        if (k == 0) {
            *eof = 1;
            return LL_OK;
        }
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && (f->stop || f->timeout_ms)) {
            if ((rc = wait_data(f, err)) != LL_OK) /* a non-blocking FIFO between writes */
                return rc;
            continue;
        }
        err_sys(err, self->name, "read failed at byte %llu", (unsigned long long)self->offset);
        return err_at(err, self->name, self->offset);
    }
}

static ll_code fd_rewind(ll_reader *self, ll_err *err)
{
    rd_fd *f = (rd_fd *)self;
    if (lseek(f->fd, 0, SEEK_SET) < 0)
        return err_sys(err, self->name, "cannot rewind");
    return LL_OK;
}

static void fd_close(ll_reader *self)
{
    rd_fd *f = (rd_fd *)self;
    if (f->own)
        close(f->fd);
    mem_free(f);
}

ll_code rd_fd_open(int fd, int own_fd, const char *name, ll_reader **out, ll_err *err)
{
    rd_fd *f = mem_calloc(1, sizeof *f);
    if (!f) {
        if (own_fd)
            close(fd);
        return err_set(err, LL_E_NOMEM, "out of memory opening %s", name);
    }
    rd_init(&f->r, name);
    struct stat st;
    f->regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    f->fd = fd;
    f->own = own_fd;
    f->r.read = fd_read;
    f->r.rewind = f->regular ? fd_rewind : NULL;
    f->r.close = fd_close;
    *out = &f->r;
    return LL_OK;
}

ll_code rd_file_open(const char *path, ll_reader **out, ll_err *err)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return err_sys(err, path, "cannot open for reading");
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return err_set(err, LL_E_ARG, "is a folder; give a file"), err_src(err, path);
    }
#ifdef POSIX_FADV_SEQUENTIAL
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    return rd_fd_open(fd, 1, path, out, err);
}

ll_code rd_fifo_open(const char *path, unsigned timeout_ms, const volatile int *stop,
                     ll_reader **out, ll_err *err)
{
    int fd;
    do /* O_NONBLOCK: opening a FIFO for reading returns at once, writer or not */
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return err_sys(err, path, "cannot open for reading");
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return err_set(err, LL_E_ARG, "is a folder; give a file"), err_src(err, path);
    }
    ll_code rc = rd_fd_open(fd, 1, path, out, err);
    if (rc == LL_OK) {
        rd_fd *f = (rd_fd *)*out;
        f->stop = stop;
        f->timeout_ms = timeout_ms ? timeout_ms : 1;
    }
    return rc;
}
