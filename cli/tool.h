/* SPDX-License-Identifier: Apache-2.0 */
/* tool.h - what the linlearn commands share: the command table and error printing. The CLI
 * uses only the public header. */
#ifndef LL_TOOL_H
#define LL_TOOL_H
#include "linlearn.h"

int cmd_convert(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_pipe(int argc, char **argv);
int cmd_local_job(int argc, char **argv);
int cmd_report(int argc, char **argv);
/* `train --sagemaker` (cmd_container.c); cmd_train hands over when it sees --sagemaker. */
int cmd_train_sagemaker(int argc, char **argv);

/* Exit statuses (docs/man/linlearn.1.md): 0 ok, 1 bad data, 2 usage, 3 I/O, 4 remote, 5 other */
int tool_exit_code(ll_code code);
/* The matrix kernels' threads for training with `threads` threads (0: all cores): one less, as
 * each channel's prefetch thread parses on a core of its own. */
int tool_train_blas_threads(int threads);
/* Prints "linlearn CMD: <formatted err>" to stderr and returns the exit status for it. */
int tool_fail(const char *cmd, const ll_err *err);

/* Installs SIGTERM and SIGINT handlers that set the returned flag to the signal's number (the
 * library's stop flag for long runs). */
volatile int *tool_stop_on_signals(void);
/* The signal that asked to stop, 0 if none. */
int tool_stop_signal(void);
/* Prints "linlearn CMD: msg" and a hint to run --help; returns 2. */
int tool_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* getopt_long for every command (options.c): glibc's own messages off (they would echo an
 * option's text, presigned URL and all), and the refused option's argv element noted for
 * tool_bad_option. */
struct option;
int tool_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* Reports the option tool_getopt just refused, once, redacted: unknown (with a "did you mean"
 * among longopts), ambiguous, needing a value or taking none; returns 2. */
int tool_bad_option(const char *cmd, char **argv, const struct option *longopts);
/* Option numbers of the input options shared by convert, inspect, train and predict. */
enum {
    O_FROM = 256,
    O_TO,
    O_LABEL_COL,
    O_NO_LABEL,
    O_HEADER,
    O_DELIM,
    O_INDEX_BASE,
    O_DIM,
    O_DENSE,
    O_SPARSE,
    O_SPLIT,
    O_MAXREC,
    O_ENDPOINT_URL, /* --endpoint-url: S3-compatible endpoint for s3:// sources */
    O_TOOL_LAST
};

/* Handles one of the shared input options: 1 handled, 0 not one of them, -1 bad value (message
 * printed). */
int tool_parse_input_opt(const char *cmd, int opt, const char *arg, ll_parse_opts *in);
/* The parse threads of convert, predict and train: N from --threads (0: one per core), and the
 * chunk size from LL_PARSE_CHUNK_BYTES when set (tests force many chunk boundaries with it). */
void tool_parse_threads(ll_parse_opts *in, uint64_t n);
/* The source settings given by those options (--endpoint-url); NULL: the built-in ones. */
const ll_source_opts *tool_source_opts(void);

/* The progress line on stderr (progress.c). mode: 1 on (--progress), 0 off (--no-progress),
 * -1 when stderr is a terminal. */
typedef struct tool_progress {
    const char *what; /* "convert", "predict" */
    uint64_t total;   /* input bytes when known (a local file), else 0 */
    uint64_t bytes, rows;
    double t0, t_draw;
    int on, drawn;
    int bytes_only; /* no row count (pipe moves bytes) */
} tool_progress;
void tool_progress_init(tool_progress *p, const char *what, const char *src, int mode);
/* An ll_tick_fn: ud is the tool_progress. Redraws at most 5 times a second. */
void tool_progress_tick(void *ud, uint64_t bytes, uint64_t rows);
/* Clears the line (before the command's own closing message). */
void tool_progress_done(tool_progress *p);
const char *tool_human_bytes(char *buf, size_t n, double v);
const char *tool_human_count(char *buf, size_t n, double v);
const char *tool_human_secs(char *buf, size_t n, double s);
/* Option numbers of --progress / --no-progress, shared by the long commands. */
enum { O_PROGRESS_ON = 900, O_PROGRESS_OFF };

/* Parses a size such as 64M, 1G, 4096 into bytes; 0 on error. */
uint64_t tool_parse_size(const char *s);
#endif
