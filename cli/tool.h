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
/* `train --sagemaker` (cmd_container.c); cmd_train hands over when it sees --sagemaker. */
int cmd_train_sagemaker(int argc, char **argv);

/* Exit statuses (docs/man/linlearn.1.md): 0 ok, 1 bad data, 2 usage, 3 I/O, 4 remote, 5 other */
int tool_exit_code(ll_code code);
/* The matrix kernels' threads for training with `threads` threads (0: all cores): one less, as
 * each channel's prefetch thread parses on a core of its own. */
int tool_train_blas_threads(int threads);
/* Prints "linlearn CMD: <formatted err>" to stderr and returns the exit status for it. */
int tool_fail(const char *cmd, const ll_err *err);
/* Prints "linlearn CMD: msg" and a hint to run --help; returns 2. */
int tool_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
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
/* The source settings given by those options (--endpoint-url); NULL: the built-in ones. */
const ll_source_opts *tool_source_opts(void);

/* Parses a size such as 64M, 1G, 4096 into bytes; 0 on error. */
uint64_t tool_parse_size(const char *s);
#endif
