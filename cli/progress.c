/* SPDX-License-Identifier: Apache-2.0 */
/* progress.c - the one-line progress indicator of the long commands on stderr: bytes and rows
 * done, rate, and percent and ETA when the input's size is known; redrawn in place at most 5
 * times a second, only when stderr is a terminal (or --progress asks for it). */
#include "tool.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void tool_progress_init(tool_progress *p, const char *what, const char *src, int mode)
{
    memset(p, 0, sizeof *p);
    p->what = what;
    p->on = mode >= 0 ? mode : isatty(2);
    p->t0 = mono_s();
    /* the total from file sizes or the S3 listing (one listing request, only when the line is
     * drawn); stdin, FIFOs and unsized URLs leave it unknown: no percent, no ETA */
    uint64_t total = UINT64_MAX;
    if (p->on && src && ll_source_size(src, tool_source_opts(), &total, NULL) == LL_OK &&
        total != UINT64_MAX)
        p->total = total;
}

const char *tool_human_bytes(char *buf, size_t n, double v)
{
    const char *u[] = {"B", "kB", "MB", "GB", "TB"};
    int i = 0;
    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
    return buf;
}

const char *tool_human_count(char *buf, size_t n, double v)
{
    if (v >= 1e9)
        snprintf(buf, n, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, n, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, n, "%.1fk", v / 1e3);
    else
        snprintf(buf, n, "%.0f", v);
    return buf;
}

const char *tool_human_secs(char *buf, size_t n, double s)
{
    if (!(s >= 0) || !isfinite(s))
        snprintf(buf, n, "?");
    else if (s < 60)
        snprintf(buf, n, "%.0f s", s < 1 && s > 0 ? 1 : s);
    else if (s < 3600)
        snprintf(buf, n, "%.0f min %02.0f s", floor(s / 60), fmod(s, 60));
    else
        snprintf(buf, n, "%.0f h %02.0f min", floor(s / 3600), fmod(s, 3600) / 60);
    return buf;
}

static void draw(tool_progress *p, double now)
{
    double el = now - p->t0, f = -1;
    char b1[32], b2[32], b3[32];
    fprintf(stderr, "\r\033[K%s: %s", p->what, tool_human_bytes(b1, sizeof b1, (double)p->bytes));
    if (p->total && p->bytes <= p->total) {
        f = (double)p->bytes / (double)p->total;
        fprintf(stderr, " of %s (%.0f%%)", tool_human_bytes(b2, sizeof b2, (double)p->total),
                f * 100);
    }
    if (!p->bytes_only)
        fprintf(stderr, ", %s rows", tool_human_count(b3, sizeof b3, (double)p->rows));
    if (el > 0.2)
        fprintf(stderr, ", %s/s", tool_human_bytes(b2, sizeof b2, (double)p->bytes / el));
    if (f > 0.001 && f < 1 && el > 0.5)
        fprintf(stderr, ", ETA %s", tool_human_secs(b3, sizeof b3, el / f * (1 - f)));
    fflush(stderr);
    p->drawn = 1;
}

void tool_progress_tick(void *ud, uint64_t bytes, uint64_t rows)
{
    tool_progress *p = ud;
    p->bytes = bytes;
    p->rows = rows;
    if (!p->on)
        return;
    double now = mono_s();
    if (now - p->t_draw < 0.2)
        return;
    p->t_draw = now;
    draw(p, now);
}

void tool_progress_done(tool_progress *p)
{
    if (p->on && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = 0;
}
