/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pipe.c - SageMaker Pipe mode on both sides: the feeder (ll_pipe_run) that creates
 * DIR/<channel>_<epoch> FIFOs and streams each epoch of a channel into them, one thread per
 * channel; the reading side (ll_pipe_open) that waits for a FIFO and opens it; and File mode's
 * copy of a channel into a local folder (ll_source_download).
 */
#include "channel.h"
#include "err.h"
#include "mem.h"
#include "rd_net.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The stop flag is set by another thread or a signal handler: read it atomically. */
static int stopped(const volatile int *stop)
{
    return stop && __atomic_load_n(stop, __ATOMIC_ACQUIRE);
}

static unsigned elapsed_ms(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (unsigned)((t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Waits for the FIFO, polling every 1 ms for the first 200 ms (a FIFO that appears right away
 * costs almost nothing), then doubling to 50 ms, opens it without blocking, then waits for the
 * first byte or the writer's EOF; *stop and the timeout are checked throughout. */
ll_code ll_pipe_open_ex(const char *prefix, uint64_t epoch, unsigned timeout_ms,
                        const volatile int *stop, ll_reader **out, ll_err *err)
{
    *out = NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s_%llu", prefix, (unsigned long long)epoch);
    if (!timeout_ms)
        timeout_ms = 60000;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct stat st;
    unsigned step = 1;
    while (stat(path, &st) != 0) {
        if (stopped(stop))
            return err_set(err, LL_E_STATE, "stopped while waiting for the FIFO"),
                   err_src(err, path);
        if (elapsed_ms(&t0) >= timeout_ms)
            return err_set(err, LL_E_IO, "the FIFO did not appear within %u ms", timeout_ms),
                   err_src(err, path);
        sleep_ms(step);
        if (elapsed_ms(&t0) >= 200)
            step = step * 2 > 50 ? 50 : step * 2;
    }
    int fd;
    do
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return err_sys(err, path, "cannot open for reading");
    if (S_ISFIFO(st.st_mode)) {
        /* a FIFO whose writer has not come yet polls as neither readable nor hung up */
        for (;;) {
            struct pollfd p = {fd, POLLIN, 0};
            int r = poll(&p, 1, 50);
            if (r > 0)
                break;
            if (r < 0 && errno != EINTR) {
                close(fd);
                return err_sys(err, path, "poll failed");
            }
            if (stopped(stop)) {
                close(fd);
                return err_set(err, LL_E_STATE, "stopped while waiting for the writer"),
                       err_src(err, path);
            }
            if (elapsed_ms(&t0) >= timeout_ms) {
                close(fd);
                return err_set(err, LL_E_IO, "no data from the writer within %u ms", timeout_ms),
                       err_src(err, path);
            }
        }
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        close(fd);
        return err_sys(err, path, "fcntl failed");
    }
    ll_reader *r;
    ll_code rc = rd_fd_open(fd, 1, path, &r, err);
    if (rc != LL_OK)
        return rc;
    if (stop)
        rd_fd_set_stop(r, stop);
    return rd_gz_wrap(r, LL_COMPRESSION_AUTO, out, err);
}

ll_code ll_pipe_open(const char *prefix, uint64_t epoch, unsigned timeout_ms, ll_reader **out,
                     ll_err *err)
{
    return ll_pipe_open_ex(prefix, epoch, timeout_ms, NULL, out, err);
}

typedef struct {
    const char *dir;
    const ll_pipe_channel *ch;
    uint64_t epochs;
    ll_source_opts o;
    volatile int *stop;
    uint64_t *fed; /* bytes handed to readers, all channels (atomic adds); NULL: not counted */
    ll_code rc;
    ll_err err;
    char fifo[4096];
} feeder;

/* Waits until fd can take more bytes, or stop. 1 ready, 0 stopped, -1 the reader left. */
static int wait_out(int fd, volatile int *stop)
{
    for (;;) {
        if (stopped(stop))
            return 0;
        struct pollfd p = {fd, POLLOUT, 0};
        int r = poll(&p, 1, 200);
        if (r > 0)
            return p.revents & POLLERR ? -1 : 1;
    }
}

static ll_code feed_epoch(feeder *f, uint64_t e, uint8_t *buf, size_t cap)
{
    snprintf(f->fifo, sizeof f->fifo, "%s/%s_%llu", f->dir, f->ch->name, (unsigned long long)e);
    unlink(f->fifo);
    if (mkfifo(f->fifo, 0600) != 0)
        return err_sys(&f->err, f->fifo, "cannot create the FIFO");
    /* open the source (listing, first request, prefetch) while the reader is on its way */
    ll_source_opts o = f->o;
    o.epoch = e;
    ll_reader *r = NULL;
    ll_code rc = ll_reader_open_ex(f->ch->src, &o, &r, &f->err);
    if (rc != LL_OK)
        return rc;
    /* wait for the reader: a non-blocking open fails with ENXIO until one is there */
    int fd = -1;
    unsigned tries = 0;
    while (fd < 0) {
        if (stopped(f->stop)) {
            ll_reader_free(r);
            unlink(f->fifo);
            return LL_OK;
        }
        fd = open(f->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 && errno != ENXIO && errno != EINTR) {
            ll_reader_free(r);
            return err_sys(&f->err, f->fifo, "cannot open for writing");
        }
        if (fd < 0)
            sleep_ms(++tries < 2000 ? 1 : 20); /* 1 ms for the first seconds, then 20 ms */
    }
#ifdef F_SETPIPE_SZ
    fcntl(fd, F_SETPIPE_SZ, (int)cap); /* fewer hand-overs; the default 64 KiB stays otherwise */
#endif
    int gone = 0;
    while (rc == LL_OK && !gone && !stopped(f->stop)) {
        size_t n;
        int eof;
        rc = ll_reader_read(r, buf, cap, &n, &eof, &f->err);
        if (rc != LL_OK || eof)
            break;
        size_t off = 0;
        while (off < n) {
            ssize_t k = write(fd, buf + off, n - off);
            if (k >= 0) {
                off += (size_t)k;
                if (f->fed)
                    __atomic_add_fetch(f->fed, (uint64_t)k, __ATOMIC_RELAXED);
                continue;
            }
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                int w = wait_out(fd, f->stop);
                if (w > 0)
                    continue;
                gone = w < 0;
                break;
            }
            gone = errno == EPIPE; /* the reader stopped early: allowed */
            if (!gone)
                rc = err_sys(&f->err, f->fifo, "write failed");
            break;
        }
        if (off < n)
            break;
    }
    ll_reader_free(r);
    /* the epoch counts as consumed once the reader has taken every byte (or left) */
    while (rc == LL_OK && !gone && !stopped(f->stop)) {
        int left = 0;
        if (ioctl(fd, FIONREAD, &left) != 0 || left == 0)
            break;
        struct pollfd p = {fd, 0, 0};
        if (poll(&p, 1, 20) > 0 && (p.revents & POLLERR))
            break;
    }
    close(fd);
    unlink(f->fifo);
    return rc;
}

static void *feeder_main(void *arg)
{
    feeder *f = arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    size_t cap = (size_t)1 << 20;
    uint8_t *buf = mem_alloc(cap);
    if (!buf) {
        f->rc = err_set(&f->err, LL_E_NOMEM, "out of memory");
        return NULL;
    }
    for (uint64_t e = 0; e < f->epochs && !stopped(f->stop); e++) {
        f->rc = feed_epoch(f, e, buf, cap);
        if (f->rc != LL_OK) {
            unlink(f->fifo);
            break;
        }
    }
    mem_free(buf);
    return NULL;
}

ll_code ll_pipe_run(const char *dir, const ll_pipe_channel *ch, size_t n_ch, uint64_t epochs,
                    const ll_source_opts *o, volatile int *stop, ll_err *err)
{
    return ll_pipe_run_counted(dir, ch, n_ch, epochs, o, stop, NULL, err);
}

ll_code ll_pipe_run_counted(const char *dir, const ll_pipe_channel *ch, size_t n_ch,
                            uint64_t epochs, const ll_source_opts *o, volatile int *stop,
                            uint64_t *fed, ll_err *err)
{
    static volatile int never;
    if (!stop)
        stop = &never;
    for (size_t i = 0; i < n_ch; i++) {
        if (!channel_name_ok(ch[i].name))
            return err_set(err, LL_E_ARG, "channel name '%.64s': use 1 to 64 of [A-Za-z0-9.-_]",
                           ch[i].name);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(ch[i].name, ch[j].name))
                return err_set(err, LL_E_ARG, "channel '%s' given twice", ch[i].name);
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return err_set(err, LL_E_ARG, "not a folder"), err_src(err, dir);
    feeder *f = mem_calloc(n_ch ? n_ch : 1, sizeof *f);
    pthread_t *th = mem_calloc(n_ch ? n_ch : 1, sizeof *th);
    if (!f || !th) {
        mem_free(f);
        mem_free(th);
        return err_set(err, LL_E_NOMEM, "out of memory");
    }
    ll_source_opts def;
    ll_source_opts_init(&def);
    size_t started = 0;
    ll_code rc = LL_OK;
    for (size_t i = 0; i < n_ch; i++) {
        f[i].dir = dir;
        f[i].ch = &ch[i];
        f[i].epochs = epochs;
        f[i].o = o ? *o : def;
        f[i].stop = stop;
        f[i].fed = fed;
        if (pthread_create(&th[i], NULL, feeder_main, &f[i]) != 0) {
            rc = err_set(err, LL_E_NOMEM, "cannot start a channel thread");
            break;
        }
        started++;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    for (size_t i = 0; i < started && rc == LL_OK; i++)
        if (f[i].rc != LL_OK) {
            rc = f[i].rc;
            if (err)
                *err = f[i].err;
        }
    mem_free(f);
    mem_free(th);
    return rc;
}

/* mkdir -p for the folders of path (not the last component). */
static ll_code make_parents(const char *path, ll_err *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return err_sys(err, tmp, "cannot create the folder");
        *p = '/';
    }
    return LL_OK;
}

ll_code ll_source_download(const char *src, const ll_source_opts *o, const char *dir,
                           uint64_t *n_files, uint64_t *n_bytes, ll_err *err)
{
    rd_list l;
    ll_code rc = rd_list_build(src, o, &l, err);
    if (rc != LL_OK)
        return rc;
    uint64_t files = 0, bytes = 0;
    size_t cap = (size_t)1 << 20;
    uint8_t *buf = mem_alloc(cap);
    if (!buf)
        rc = err_set(err, LL_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == LL_OK && i < l.n; i++) {
        char path[4096];
        const char *rel = l.objs[i].rel;
        while (*rel == '/')
            rel++;
        if (strstr(rel, "..") || !*rel) {
            rc = err_set(err, LL_E_ARG, "object '%.100s' cannot be a local file name",
                         l.objs[i].name);
            break;
        }
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        rc = make_parents(path, err);
        ll_reader *r = NULL;
        ll_writer *w = NULL;
        if (rc == LL_OK)
            rc = rd_list_open(&l, i, &r, err);
        if (rc == LL_OK)
            rc = ll_writer_open(path, &w, err);
        while (rc == LL_OK) {
            size_t n;
            int eof;
            rc = ll_reader_read(r, buf, cap, &n, &eof, err);
            if (rc != LL_OK || eof)
                break;
            rc = ll_writer_write(w, buf, n, err);
            bytes += n;
        }
        if (rc == LL_OK)
            rc = ll_writer_commit(w, err);
        else
            ll_writer_abort(w);
        ll_reader_free(r);
        files++;
    }
    mem_free(buf);
    rd_list_deinit(&l);
    if (n_files)
        *n_files = files;
    if (n_bytes)
        *n_bytes = bytes;
    return rc;
}
