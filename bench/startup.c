/* SPDX-License-Identifier: Apache-2.0 */
/*
 * startup.c - Pipe mode vs File mode start-up and throughput, driven by bench/startup.sh.
 *   startup gen DIR TOTAL_MIB OBJ_MIB     deterministic RecordIO-protobuf parts DIR/part-NNNNN.pbr
 *   startup run KIND SRC WORK [LINLEARN]  times one pass in a child process (and, for pipe, the
 *                                         `linlearn pipe` feeder) from the moment before fork
 * KIND: local (ll_reader_open on a folder), stream (ll_reader_open on s3://), pipe (the FIFO
 * WORK/train_0 fed by `LINLEARN pipe`, read with ll_pipe_open; feeder and reader start
 * together), pipewarm (the same, the clock starting once the running feeder's FIFO exists), file
 * (ll_source_download into WORK/train, then the local copy). Prints one line: first-batch ms, pass
 * s, MB/s, RSS.
 */
#include "linlearn.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH_ROWS 1000
#define DIM 100

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int fail(const ll_err *e)
{
    char buf[512];
    fprintf(stderr, "startup: %s\n", ll_err_format(e, buf, sizeof buf));
    return 1;
}

/* splitmix64: the same stream of values on every run */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Rows of DIM dense features and one label, written as RecordIO-protobuf parts of OBJ_MIB
 * (whole records; a part ends at the first batch boundary past the size). */
static int gen(const char *dir, uint64_t total_mib, uint64_t obj_mib)
{
    uint64_t total = total_mib << 20, obj = obj_mib << 20, done = 0, seed = 42;
    ll_err e;
    ll_batch b;
    ll_batch_init(&b);
    float v[DIM];
    for (int part = 0; done < total; part++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/part-%05d.pbr", dir, part);
        ll_writer *w;
        ll_sink *s;
        ll_sink_opts so;
        ll_sink_opts_init(&so);
        so.format = LL_FMT_RECORDIO;
        if (ll_writer_open(path, &w, &e) != LL_OK || ll_sink_new(w, &so, &s, &e) != LL_OK)
            return fail(&e);
        while (ll_writer_offset(w) < obj && done + ll_writer_offset(w) < total) {
            ll_batch_clear(&b);
            for (int r = 0; r < 256; r++) {
                float y = 0;
                for (int j = 0; j < DIM; j++) {
                    v[j] = (float)((double)(mix(&seed) >> 40) / (double)(1u << 24)) - 0.5f;
                    y += v[j] * (float)(j % 7 - 3);
                }
                float label = y > 0;
                if (ll_batch_add_row(&b, v, NULL, DIM, DIM, &label, 1, &e) != LL_OK)
                    return fail(&e);
            }
            if (ll_sink_write(s, &b, &e) != LL_OK)
                return fail(&e);
        }
        ll_sink_free(s);
        uint64_t n = ll_writer_offset(w);
        if (ll_writer_commit(w, &e) != LL_OK)
            return fail(&e);
        done += n;
    }
    ll_batch_deinit(&b);
    printf("%llu bytes\n", (unsigned long long)done);
    return 0;
}

/* The measured child: opens the source the KIND's way and parses it in BATCH_ROWS batches.
 * Prints "first_ns end_ns rows bytes" relative to LL_T0 (CLOCK_MONOTONIC ns). */
static int child(const char *kind, const char *src, const char *work)
{
    uint64_t t0 = strtoull(getenv("LL_T0") ? getenv("LL_T0") : "0", NULL, 10);
    ll_err e;
    ll_reader *rd = NULL;
    char path[4096];
    if (getenv("STARTUP_VERBOSE"))
        fprintf(stderr, "startup: %s main at %.1f ms\n", kind, (double)(now_ns() - t0) / 1e6);
    if (!strcmp(kind, "pipe")) {
        snprintf(path, sizeof path, "%s/train", work);
        if (ll_pipe_open(path, 0, 60000, &rd, &e) != LL_OK)
            return fail(&e);
    } else if (!strcmp(kind, "file")) {
        snprintf(path, sizeof path, "%s/train/", work);
        if (ll_source_download(src, NULL, path, NULL, NULL, &e) != LL_OK ||
            ll_reader_open(path, &rd, &e) != LL_OK)
            return fail(&e);
    } else if (ll_reader_open(src, &rd, &e) != LL_OK) {
        return fail(&e);
    }
    if (getenv("STARTUP_VERBOSE"))
        fprintf(stderr, "startup: %s opened at %.1f ms\n", kind, (double)(now_ns() - t0) / 1e6);
    ll_parse_opts po;
    ll_parse_opts_init(&po);
    po.format = LL_FMT_RECORDIO;
    ll_parser *p;
    if (ll_parser_new(rd, &po, &p, &e) != LL_OK)
        return fail(&e);
    ll_batch b;
    ll_batch_init(&b);
    uint64_t first = 0, rows = 0;
    int eof = 0, first_only = getenv("STARTUP_FIRST_ONLY") != NULL;
    double sum = 0;
    while (!eof) {
        if (ll_parser_next(p, &b, BATCH_ROWS, &eof, &e) != LL_OK)
            return fail(&e);
        if (!first && b.n_rows) {
            first = now_ns();
            if (first_only)
                break;
        }
        rows += b.n_rows;
        if (b.n_rows)
            sum += b.val[0]; /* touch the batch */
    }
    uint64_t end = now_ns();
    uint64_t bytes = ll_reader_offset(rd);
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    printf("%llu %llu %llu %llu %g\n", (unsigned long long)(first - t0),
           (unsigned long long)(end - t0), (unsigned long long)rows, (unsigned long long)bytes,
           sum);
    return 0;
}

static int run(const char *self, const char *kind, const char *src, const char *work,
               const char *linlearn)
{
    char t0s[32], chan[4200], fifo_dir[4096];
    /* pipewarm: the feeder is started first and the clock starts once its FIFO exists (the
     * feeder is then listing and requesting the first object), as in SageMaker, where the
     * agent is running before the container */
    int warm = !strcmp(kind, "pipewarm");
    if (warm)
        kind = "pipe";
    int is_pipe = !strcmp(kind, "pipe");
    if (is_pipe && !linlearn) {
        fprintf(stderr, "startup: pipe needs the linlearn binary\n");
        return 1;
    }
    int fds[2];
    if (pipe(fds) != 0)
        return 1;
    uint64_t t0 = now_ns();
    snprintf(t0s, sizeof t0s, "%llu", (unsigned long long)t0);
    setenv("LL_T0", t0s, 1);
    pid_t feeder = -1;
    if (is_pipe) {
        snprintf(chan, sizeof chan, "train=%s", src);
        snprintf(fifo_dir, sizeof fifo_dir, "%s", work);
        feeder = fork();
        if (feeder == 0) {
            close(fds[0]);
            close(fds[1]);
            execl(linlearn, linlearn, "pipe", "--dir", fifo_dir, "--epochs", "1", "--channel", chan,
                  (char *)NULL);
            _exit(127);
        }
        if (warm) {
            char fifo[4200];
            snprintf(fifo, sizeof fifo, "%s/train_0", work);
            struct stat st;
            for (int i = 0; i < 10000 && stat(fifo, &st) != 0; i++)
                usleep(1000);
            t0 = now_ns();
            snprintf(t0s, sizeof t0s, "%llu", (unsigned long long)t0);
            setenv("LL_T0", t0s, 1);
        }
    }
    pid_t c = fork();
    if (c == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(self, self, "child", kind, src, work, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char out[256] = {0};
    size_t got = 0;
    ssize_t k;
    while (got < sizeof out - 1 && (k = read(fds[0], out + got, sizeof out - 1 - got)) > 0)
        got += (size_t)k;
    close(fds[0]);
    int st;
    struct rusage ru, fru = {0};
    if (wait4(c, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "startup: the %s reader failed\n", kind);
        if (feeder > 0)
            kill(feeder, 15), wait4(feeder, &st, 0, &fru);
        return 1;
    }
    if (feeder > 0 && (wait4(feeder, &st, 0, &fru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))) {
        fprintf(stderr, "startup: the pipe feeder failed\n");
        return 1;
    }
    unsigned long long first, end, rows, bytes;
    if (sscanf(out, "%llu %llu %llu %llu", &first, &end, &rows, &bytes) != 4) {
        fprintf(stderr, "startup: unexpected child output '%s'\n", out);
        return 1;
    }
    /* kind first_ms pass_s MB/s rows bytes reader_rss_MiB feeder_rss_MiB */
    printf("%s%s %.1f %.2f %.0f %llu %llu %.1f %.1f\n", kind, warm ? "warm" : "",
           (double)first / 1e6, (double)end / 1e9, (double)bytes / 1e6 / ((double)end / 1e9), rows,
           bytes, (double)ru.ru_maxrss / 1024.0, is_pipe ? (double)fru.ru_maxrss / 1024.0 : 0.0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "gen"))
        return gen(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
    if (argc == 5 && !strcmp(argv[1], "child"))
        return child(argv[2], argv[3], argv[4]);
    if ((argc == 5 || argc == 6) && !strcmp(argv[1], "run"))
        return run(argv[0], argv[2], argv[3], argv[4], argc == 6 ? argv[5] : NULL);
    fprintf(stderr, "usage: startup gen DIR TOTAL_MIB OBJ_MIB | run KIND SRC WORK [LINLEARN]\n");
    return 2;
}
