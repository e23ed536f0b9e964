/* SPDX-License-Identifier: Apache-2.0 */
/* main.c - the linlearn command: dispatches to cmd_*.c and maps error codes to exit statuses. */
#include "tool.h"
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"convert", cmd_convert, "convert between CSV, LIBSVM, JSON Lines and RecordIO-protobuf"},
    {"inspect", cmd_inspect, "summarise and validate a data file (any format)"},
    {"train", cmd_train, "train Linear Learner models"},
    {"export", cmd_export, "print a model's weights as JSON or CSV"},
    {"predict", cmd_predict, "score a file with a model (batch transform)"},
    {"serve", cmd_serve, "serve a model over HTTP (SageMaker inference protocol)"},
    {"pipe", cmd_pipe, "stream channels into Pipe-mode FIFOs"},
    {"local-job", cmd_local_job, "run a SageMaker-shaped training job locally"},
    {"report", cmd_report, "write the HTML training report from train's metrics JSON"},
};

int tool_exit_code(ll_code code)
{
    switch (code) {
    case LL_OK:
        return 0;
    case LL_E_PARSE:
    case LL_E_TOOBIG:
        return 1;
    case LL_E_ARG:
        return 2;
    case LL_E_IO:
        return 3;
    case LL_E_REMOTE:
        return 4;
    default:
        return 5;
    }
}

int tool_train_blas_threads(int threads)
{
    long nproc = sysconf(_SC_NPROCESSORS_ONLN);
    int n = threads > 0 ? threads : (int)(nproc > 0 ? nproc : 1);
    /* ranks that mpirun started on this machine share its cores */
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    if (threads <= 0 && local && atoi(local) > 1)
        n = n / atoi(local) > 1 ? n / atoi(local) : 1;
    return n > 1 ? n - 1 : 1;
}

int tool_fail(const char *cmd, const ll_err *err)
{
    char buf[1024], shown[1100];
    ll_redact(ll_err_format(err, buf, sizeof buf), shown, sizeof shown);
    fprintf(stderr, "linlearn %s: %s\n", cmd, shown);
    return tool_exit_code(err->code);
}

int tool_usage_error(const char *cmd, const char *fmt, ...)
{
    char buf[2048], shown[2100]; /* arguments may hold presigned URLs: redacted */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "linlearn %s: %s\nTry 'linlearn %s --help'.\n", cmd,
            ll_redact(buf, shown, sizeof shown), cmd);
    return 2;
}

uint64_t tool_parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return 0;
    uint64_t mult = 1;
    switch (toupper((unsigned char)*end)) {
    case 0:
        break;
    case 'K':
        mult = 1ull << 10;
        end++;
        break;
    case 'M':
        mult = 1ull << 20;
        end++;
        break;
    case 'G':
        mult = 1ull << 30;
        end++;
        break;
    case 'T':
        mult = 1ull << 40;
        end++;
        break;
    default:
        return 0;
    }
    if (*end == 'i' || *end == 'I')
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    if (*end)
        return 0;
    return (uint64_t)(v * (double)mult);
}

/* Every command's last word on standard output: buffered text is flushed and the stream closed,
 * and a failure at any point (a full disk, a closed pipe) is an error naming the output, never a
 * silent success (docs/RELIABILITY.md). Returns rc, or 3 (LL_E_IO) when rc was 0. */
static int close_stdout(const char *cmd, int rc)
{
    errno = 0;
    int bad = fflush(stdout) != 0;
    int e = errno;
    if (!bad && ferror(stdout))
        bad = 1; /* an earlier write failed; its errno is gone */
    if (fclose(stdout) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (!bad)
        return rc;
    fprintf(stderr, "linlearn%s%s: cannot write standard output%s%s\n", cmd ? " " : "",
            cmd ? cmd : "", e ? ": " : " (a write failed)", e ? strerror(e) : "");
    return rc ? rc : 3;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: linlearn COMMAND [options] ...\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'linlearn COMMAND --help' describes a command. linlearn %s\n", ll_version());
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return close_stdout(NULL, 0);
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("linlearn %s\n", ll_version());
        return close_stdout(NULL, 0);
    }
    const char *names[sizeof commands / sizeof commands[0]];
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(argv[1], commands[i].name))
            return close_stdout(commands[i].name, commands[i].fn(argc - 1, argv + 1));
        names[i] = commands[i].name;
    }
    const char *near = ll_closest(argv[1], names, sizeof names / sizeof names[0]);
    char shown[512]; /* what was typed may hold a presigned URL */
    ll_redact(argv[1], shown, sizeof shown);
    if (near)
        fprintf(stderr, "linlearn: unknown command '%s'; did you mean '%s'?\n", shown, near);
    else
        fprintf(stderr, "linlearn: unknown command '%s'\n", shown);
    fprintf(stderr, "Try 'linlearn --help' for the list of commands.\n");
    return 2;
}
