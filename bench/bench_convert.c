/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_convert.c - conversion throughput of the library beside baselines measured in the
 * same run: CSV -> RecordIO (baseline: reading the file, and a naive fgets+strtof parse),
 * LIBSVM -> RecordIO (baseline: naive fgets+strtol/strtof), RecordIO -> mini-batches decode
 * only (baseline: reading the file) and RecordIO -> CSV (baseline: decode + fprintf "%.9g");
 * the text conversions once more with the text parsed on every core (ll_parse_opts.threads 0).
 * Each measurement runs in a child process so its peak RSS (getrusage) is its own.
 * Usage: bench_convert DATA_DIR OUT_DIR  (DATA_DIR holds dense.csv and sparse.libsvm)
 */
#include "linlearn.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

typedef struct {
    double secs;
    uint64_t rows;
    int ok;
} result;

/* ---- the measured bodies (run in a child) ---- */

static result cat_file(const char *path)
{
    result r = {0, 0, 0};
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return r;
    static char buf[1 << 20];
    double t = now();
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        ;
    r.secs = now() - t;
    close(fd);
    r.ok = n == 0;
    return r;
}

/* The obvious C loop: fgets a line, strtof each comma-separated field. */
static result naive_csv(const char *path)
{
    result r = {0, 0, 0};
    FILE *f = fopen(path, "r");
    if (!f)
        return r;
    static char line[1 << 16];
    float *row = malloc(4096 * sizeof *row);
    double sum = 0, t = now();
    while (fgets(line, sizeof line, f)) {
        char *p = line, *e;
        int n = 0;
        for (;;) {
            float v = strtof(p, &e);
            if (e == p)
                break;
            if (n < 4096)
                row[n++] = v;
            p = e;
            if (*p != ',')
                break;
            p++;
        }
        sum += row[0];
        r.rows++;
    }
    r.secs = now() - t;
    r.ok = sum >= 0;
    free(row);
    fclose(f);
    return r;
}

static result naive_libsvm(const char *path)
{
    result r = {0, 0, 0};
    FILE *f = fopen(path, "r");
    if (!f)
        return r;
    static char line[1 << 16];
    float *val = malloc(((size_t)1 << 16) * sizeof *val);
    long *idx = malloc(((size_t)1 << 16) * sizeof *idx);
    double sum = 0, t = now();
    while (fgets(line, sizeof line, f)) {
        char *p = line, *e;
        float label = strtof(p, &e);
        p = e;
        int n = 0;
        for (;;) {
            long ix = strtol(p, &e, 10);
            if (e == p || *e != ':')
                break;
            p = e + 1;
            val[n & 0xFFFF] = strtof(p, &e);
            idx[n & 0xFFFF] = ix;
            n++;
            p = e;
        }
        sum += label;
        r.rows++;
    }
    r.secs = now() - t;
    r.ok = sum > -1e30;
    free(val);
    free(idx);
    fclose(f);
    return r;
}

static result convert(const char *in, const char *out, uint64_t threads)
{
    result r = {0, 0, 0};
    ll_convert_opts o;
    ll_convert_opts_init(&o);
    o.in.threads = threads;
    ll_err err;
    double t = now();
    ll_code rc = ll_convert(in, out, &o, &r.rows, &err);
    r.secs = now() - t;
    r.ok = rc == LL_OK;
    if (!r.ok) {
        char b[512];
        fprintf(stderr, "convert %s -> %s: %s\n", in, out, ll_err_format(&err, b, sizeof b));
    }
    return r;
}

static result decode(const char *path)
{
    result r = {0, 0, 0};
    ll_err err;
    ll_reader *rd;
    if (ll_reader_open(path, &rd, &err) != LL_OK)
        return r;
    ll_parser *p;
    if (ll_parser_new(rd, NULL, &p, &err) != LL_OK) {
        ll_reader_free(rd);
        return r;
    }
    ll_batch b;
    ll_batch_init(&b);
    int eof = 0;
    ll_code rc = LL_OK;
    double sum = 0, t = now();
    while (!eof && (rc = ll_parser_next(p, &b, 1024, &eof, &err)) == LL_OK) {
        r.rows += b.n_rows;
        if (b.n_rows)
            sum += b.val[0];
    }
    r.secs = now() - t;
    r.ok = rc == LL_OK && sum == sum;
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    return r;
}

/* Decode with the library, then print every value with fprintf("%.9g"). */
static result naive_to_csv(const char *in, const char *out)
{
    result r = {0, 0, 0};
    ll_err err;
    ll_reader *rd;
    if (ll_reader_open(in, &rd, &err) != LL_OK)
        return r;
    ll_parser *p;
    if (ll_parser_new(rd, NULL, &p, &err) != LL_OK) {
        ll_reader_free(rd);
        return r;
    }
    FILE *f = fopen(out, "w");
    ll_batch b;
    ll_batch_init(&b);
    int eof = 0;
    ll_code rc = LL_OK;
    double t = now();
    while (f && !eof && (rc = ll_parser_next(p, &b, 1024, &eof, &err)) == LL_OK) {
        for (size_t i = 0; i < b.n_rows; i++) {
            if (b.loff[i + 1] > b.loff[i])
                fprintf(f, "%.9g", (double)b.label[b.loff[i]]);
            for (size_t k = b.off[i]; k < b.off[i + 1]; k++)
                fprintf(f, ",%.9g", (double)b.val[k]);
            fputc('\n', f);
        }
        r.rows += b.n_rows;
    }
    if (f)
        fclose(f);
    r.secs = now() - t;
    r.ok = f && rc == LL_OK;
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    return r;
}

/* ---- running each in a child for its own peak RSS ---- */

enum { CAT, NAIVE_CSV, NAIVE_SVM, CONVERT, CONVERT_MT, DECODE, NAIVE_TO_CSV };

static result measure(int what, const char *a, const char *b, long *rss_kb)
{
    int fds[2];
    result r = {0, 0, 0};
    if (pipe(fds) != 0)
        return r;
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        switch (what) {
        case CAT:
            r = cat_file(a);
            break;
        case NAIVE_CSV:
            r = naive_csv(a);
            break;
        case NAIVE_SVM:
            r = naive_libsvm(a);
            break;
        case CONVERT:
            r = convert(a, b, 1);
            break;
        case CONVERT_MT: /* text parsed on every core */
            r = convert(a, b, 0);
            break;
        case DECODE:
            r = decode(a);
            break;
        default:
            r = naive_to_csv(a, b);
        }
        ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0 || n != (ssize_t)sizeof r) {
        r.ok = 0;
        return r;
    }
    *rss_kb = ru.ru_maxrss;
    return r;
}

/* Best of `reps` runs (the least disturbed by the other tenants of the machine). */
static result best(int what, const char *a, const char *b, int reps, long *rss)
{
    result out = {0, 0, 0};
    for (int i = 0; i < reps; i++) {
        long k = 0;
        result r = measure(what, a, b, &k);
        if (!r.ok)
            return r;
        if (!out.ok || r.secs < out.secs) {
            out = r;
            *rss = k;
        }
    }
    return out;
}

static void row(const char *name, const char *unit, double base, double cur, long base_rss,
                long rss)
{
    printf("%-34s %10.1f %10.1f %8.2fx  %-8s  %7.1f %7.1f\n", name, base, cur,
           base > 0 ? cur / base : 0, unit, base_rss / 1024.0, rss / 1024.0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DATA_DIR OUT_DIR\n", argv[0]);
        return 2;
    }
    const char *reps_s = getenv("BENCH_REPS");
    int reps = reps_s ? atoi(reps_s) : 3;
    if (reps < 1)
        reps = 1;
    char csv[1024], svm[1024], pbr[1024], spbr[1024], back[1024], nback[1024];
    snprintf(csv, sizeof csv, "%s/dense.csv", argv[1]);
    snprintf(svm, sizeof svm, "%s/sparse.libsvm", argv[1]);
    snprintf(pbr, sizeof pbr, "%s/dense.pbr", argv[2]);
    snprintf(spbr, sizeof spbr, "%s/sparse.pbr", argv[2]);
    snprintf(back, sizeof back, "%s/dense.back.csv", argv[2]);
    snprintf(nback, sizeof nback, "%s/dense.naive.csv", argv[2]);
    double mb_csv = file_size(csv) / 1e6, mb_svm = file_size(svm) / 1e6;
    if (mb_csv == 0 || mb_svm == 0) {
        fprintf(stderr, "missing %s or %s\n", csv, svm);
        return 1;
    }
    long r0 = 0, r1 = 0, r2 = 0;
    printf("best of %d runs, one core (\"all cores\": text parsed on every core); MB = 10^6 bytes; "
           "RSS in MiB (peak, per step)\n",
           reps);
    printf("%-34s %10s %10s %9s  %-8s  %7s %7s\n", "name", "base", "now", "now/base", "unit",
           "baseRSS", "RSS");
    result cat = best(CAT, csv, NULL, reps, &r0);
    result nv = best(NAIVE_CSV, csv, NULL, reps, &r1);
    result cv = best(CONVERT, csv, pbr, reps, &r2);
    if (!cat.ok || !nv.ok || !cv.ok)
        return 1;
    row("CSV->RecordIO vs cat", "MB/s", mb_csv / cat.secs, mb_csv / cv.secs, r0, r2);
    row("CSV->RecordIO vs fgets+strtof", "MB/s", mb_csv / nv.secs, mb_csv / cv.secs, r1, r2);
    row("CSV->RecordIO rows", "krows/s", nv.rows / nv.secs / 1e3, cv.rows / cv.secs / 1e3, r1, r2);
    long r3 = 0;
    result cm = best(CONVERT_MT, csv, pbr, reps, &r3);
    if (!cm.ok)
        return 1;
    row("CSV->RecordIO all cores vs 1 thread", "MB/s", mb_csv / cv.secs, mb_csv / cm.secs, r2, r3);
    result scat = best(CAT, svm, NULL, reps, &r0);
    result ns = best(NAIVE_SVM, svm, NULL, reps, &r1);
    result sv = best(CONVERT, svm, spbr, reps, &r2);
    if (!scat.ok || !ns.ok || !sv.ok)
        return 1;
    row("LIBSVM->RecordIO vs cat", "MB/s", mb_svm / scat.secs, mb_svm / sv.secs, r0, r2);
    row("LIBSVM->RecordIO vs fgets+strtof", "MB/s", mb_svm / ns.secs, mb_svm / sv.secs, r1, r2);
    row("LIBSVM->RecordIO rows", "krows/s", ns.rows / ns.secs / 1e3, sv.rows / sv.secs / 1e3, r1,
        r2);
    result sm = best(CONVERT_MT, svm, spbr, reps, &r3);
    if (!sm.ok)
        return 1;
    row("LIBSVM->RecordIO all cores vs 1", "MB/s", mb_svm / sv.secs, mb_svm / sm.secs, r2, r3);
    double mb_pbr = file_size(pbr) / 1e6, mb_spbr = file_size(spbr) / 1e6;
    result pcat = best(CAT, pbr, NULL, reps, &r0);
    result dc = best(DECODE, pbr, NULL, reps, &r2);
    if (!pcat.ok || !dc.ok)
        return 1;
    row("RecordIO decode dense vs cat", "MB/s", mb_pbr / pcat.secs, mb_pbr / dc.secs, r0, r2);
    row("RecordIO decode dense rows", "krows/s", 0, dc.rows / dc.secs / 1e3, 0, r2);
    result spcat = best(CAT, spbr, NULL, reps, &r0);
    result sdc = best(DECODE, spbr, NULL, reps, &r2);
    if (!spcat.ok || !sdc.ok)
        return 1;
    row("RecordIO decode sparse vs cat", "MB/s", mb_spbr / spcat.secs, mb_spbr / sdc.secs, r0, r2);
    result nb = best(NAIVE_TO_CSV, pbr, nback, reps, &r1);
    result cb = best(CONVERT, pbr, back, reps, &r2);
    if (!nb.ok || !cb.ok)
        return 1;
    double mb_nback = file_size(nback) / 1e6, mb_back = file_size(back) / 1e6;
    row("RecordIO->CSV vs decode+fprintf", "MB/s", mb_pbr / nb.secs, mb_pbr / cb.secs, r1, r2);
    row("RecordIO->CSV, CSV bytes written", "MB/s", mb_nback / nb.secs, mb_back / cb.secs, r1, r2);
    row("RecordIO->CSV rows", "krows/s", nb.rows / nb.secs / 1e3, cb.rows / cb.secs / 1e3, r1, r2);
    printf("sizes: dense.csv %.1f MB, dense.pbr %.1f MB, sparse.libsvm %.1f MB, sparse.pbr %.1f "
           "MB, rows %llu\n",
           mb_csv, mb_pbr, mb_svm, mb_spbr, (unsigned long long)cv.rows);
    unlink(nback);
    return 0;
}
