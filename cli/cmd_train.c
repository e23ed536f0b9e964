/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_train.c - `linlearn train`: options to ll_train_opts/ll_hparams, SageMaker-style log lines
 * on stdout, a progress bar on stderr when it is a terminal. */
#include "tool.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *HELP =
    "usage: linlearn train --train SRC [options]\n"
    "\n"
    "Trains SageMaker Linear Learner models (docs/TRAINING.md). Hyperparameters use\n"
    "SageMaker's names; predictor_type is required.\n"
    "\n"
    "  --train SRC              training data (path, - for stdin, or a Pipe-mode prefix)\n"
    "  --validation SRC         validation channel: early stopping, model selection\n"
    "  --test SRC               test channel: scored once with the final model\n"
    "  --content-type TYPE      text/csv, text/libsvm or application/x-recordio-protobuf\n"
    "                           (default: from the extension, else the first bytes)\n"
    "  --input-mode file|pipe   pipe: pass n of a channel reads the FIFO SRC_n\n"
    "  --pipe-timeout-ms N      how long to wait for a FIFO (default 60000)\n"
    "  -H, --hyperparameter NAME=VALUE   (repeatable)\n"
    "  --hyperparameters FILE   a JSON object of name: value (hyperparameters.json)\n"
    "  --model-dir DIR          write DIR/model.tar.gz\n"
    "  --metrics-json FILE      write the run's summary and metrics as JSON\n"
    "  --seed N                 random seed (default 0); same seed and threads, same model\n"
    "  --threads N              BLAS threads (default: all cores)\n"
    "  --label-column N  --header  --delimiter C  --index-base 0|1\n"
    "                           input options as for convert\n"
    "\n"
    "Across hosts (under mpirun, docs/DISTRIBUTED.md; rank r is host algo-(r+1)):\n"
    "  --shard auto|files|records|none  how the train channel is split (default auto: whole\n"
    "                           objects when there are at least as many as hosts, else records)\n"
    "  --average-steps H        average the models every H batches instead of summing the\n"
    "                           gradients every step (default 1: every step, exact)\n"
    "  --checkpoint-dir DIR     save the state after every epoch (algo-1 writes it); a run\n"
    "                           that finds a matching checkpoint there continues from it\n"
    "  --dist-timeout S         a host waiting S seconds for the others ends the job (300)\n"
    "\n"
    "Example:\n"
    "  linlearn train --train train.csv --validation val.csv -H predictor_type=regressor \\\n"
    "      --model-dir model/ --metrics-json metrics.json\n";

enum {
    O_TRAIN = O_TOOL_LAST,
    O_VAL,
    O_TEST,
    O_CT,
    O_MODE,
    O_PTO,
    O_HPFILE,
    O_MODELDIR,
    O_METRICS,
    O_SEED,
    O_THREADS,
    O_SHARD,
    O_AVG,
    O_DTO,
    O_CKPT,
};

static const struct option LONGOPTS[] = {
    {"train", required_argument, 0, O_TRAIN},
    {"validation", required_argument, 0, O_VAL},
    {"test", required_argument, 0, O_TEST},
    {"content-type", required_argument, 0, O_CT},
    {"input-mode", required_argument, 0, O_MODE},
    {"pipe-timeout-ms", required_argument, 0, O_PTO},
    {"hyperparameter", required_argument, 0, 'H'},
    {"hyperparameters", required_argument, 0, O_HPFILE},
    {"model-dir", required_argument, 0, O_MODELDIR},
    {"metrics-json", required_argument, 0, O_METRICS},
    {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS},
    {"shard", required_argument, 0, O_SHARD},
    {"average-steps", required_argument, 0, O_AVG},
    {"dist-timeout", required_argument, 0, O_DTO},
    {"checkpoint-dir", required_argument, 0, O_CKPT},
    {"label-column", required_argument, 0, O_LABEL_COL},
    {"header", no_argument, 0, O_HEADER},
    {"delimiter", required_argument, 0, O_DELIM},
    {"index-base", required_argument, 0, O_INDEX_BASE},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static void log_line(void *ud, const char *line)
{
    (void)ud;
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%m/%d/%Y %H:%M:%S", &tm);
    printf("[%s INFO %ld] %s\n", ts, (long)getpid(), line);
    fflush(stdout);
}

static void progress(void *ud, double done)
{
    (void)ud;
    int w = 40, k = (int)(done * w + 0.5);
    fprintf(stderr, "\r[");
    for (int i = 0; i < w; i++)
        fputc(i < k ? '#' : ' ', stderr);
    fprintf(stderr, "] %3.0f%%%s", done * 100, done >= 1 ? "\n" : "");
    fflush(stderr);
}

static int parse_u64(const char *s, unsigned long long *v)
{
    char *end;
    if (!*s || *s == '-')
        return 0;
    *v = strtoull(s, &end, 10);
    return *end == 0;
}

int cmd_train(int argc, char **argv)
{
    const char *cmd = "train";
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--sagemaker"))
            return cmd_train_sagemaker(argc, argv);
    ll_err err;
    ll_hparams *hp = NULL;
    if (ll_hparams_new(&hp, &err) != LL_OK)
        return tool_fail(cmd, &err);
    ll_train_opts o;
    ll_train_opts_init(&o);
    const char *hpfile = NULL;
    /* -H values are applied after the file, so they override it */
    char **hs = calloc((size_t)argc, sizeof *hs);
    int nh = 0, c, st = 0;
    unsigned long long u;
    optind = 1;
    while ((c = getopt_long(argc, argv, "H:h", LONGOPTS, NULL)) != -1) {
        int r = tool_parse_input_opt(cmd, c, optarg, &o.parse);
        if (r < 0) {
            st = 2;
            goto out;
        }
        if (r > 0)
            continue;
        switch (c) {
        case O_TRAIN:
            o.train = optarg;
            break;
        case O_VAL:
            o.validation = optarg;
            break;
        case O_TEST:
            o.test = optarg;
            break;
        case O_CT:
            o.parse.format = ll_format_from_name(optarg);
            if (o.parse.format == LL_FMT_AUTO) {
                st = tool_usage_error(cmd, "unknown content type '%s'", optarg);
                goto out;
            }
            break;
        case O_MODE:
            if (!strcmp(optarg, "pipe") || !strcmp(optarg, "Pipe"))
                o.pipe = 1;
            else if (strcmp(optarg, "file") && strcmp(optarg, "File")) {
                st = tool_usage_error(cmd, "--input-mode is file or pipe, not '%s'", optarg);
                goto out;
            }
            break;
        case O_PTO:
            if (!parse_u64(optarg, &u) || u > 86400000) {
                st = tool_usage_error(cmd, "bad --pipe-timeout-ms '%s'", optarg);
                goto out;
            }
            o.pipe_timeout_ms = (unsigned)u;
            break;
        case 'H':
            if (!strchr(optarg, '=')) {
                st = tool_usage_error(cmd, "-H needs NAME=VALUE, got '%s'", optarg);
                goto out;
            }
            hs[nh++] = optarg;
            break;
        case O_HPFILE:
            hpfile = optarg;
            break;
        case O_MODELDIR:
            o.model_dir = optarg;
            break;
        case O_METRICS:
            o.metrics_json = optarg;
            break;
        case O_SEED:
            if (!parse_u64(optarg, &u)) {
                st = tool_usage_error(cmd, "bad --seed '%s'", optarg);
                goto out;
            }
            o.seed = u;
            break;
        case O_THREADS:
            if (!parse_u64(optarg, &u) || u > 1024) {
                st = tool_usage_error(cmd, "bad --threads '%s'", optarg);
                goto out;
            }
            o.threads = (int)u;
            break;
        case O_SHARD:
            if (!strcmp(optarg, "auto"))
                o.shard = LL_SHARD_AUTO;
            else if (!strcmp(optarg, "files"))
                o.shard = LL_SHARD_FILES;
            else if (!strcmp(optarg, "records"))
                o.shard = LL_SHARD_RECORDS;
            else if (!strcmp(optarg, "none"))
                o.shard = LL_SHARD_NONE;
            else {
                st = tool_usage_error(cmd, "--shard is auto, files, records or none, not '%s'",
                                      optarg);
                goto out;
            }
            break;
        case O_AVG:
            if (!parse_u64(optarg, &u) || u < 1 || u > 1000000) {
                st = tool_usage_error(cmd, "bad --average-steps '%s' (1 to 1000000)", optarg);
                goto out;
            }
            o.average_steps = (unsigned)u;
            break;
        case O_DTO:
            if (!parse_u64(optarg, &u) || u < 1 || u > 86400) {
                st = tool_usage_error(cmd, "bad --dist-timeout '%s' (1 to 86400 seconds)", optarg);
                goto out;
            }
            o.dist_timeout_s = (unsigned)u;
            break;
        case O_CKPT:
            o.checkpoint_dir = optarg;
            break;
        case 'h':
            fputs(HELP, stdout);
            goto out;
        default:
            st = tool_usage_error(cmd, "unknown option");
            goto out;
        }
    }
    if (optind < argc) {
        st = tool_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (!o.train) {
        st = tool_usage_error(cmd, "--train is required");
        goto out;
    }
    if (hpfile && ll_hparams_load_json(hp, hpfile, &err) != LL_OK) {
        st = tool_fail(cmd, &err);
        goto out;
    }
    for (int i = 0; i < nh; i++) {
        char *eq = strchr(hs[i], '=');
        *eq = 0;
        ll_code rc = ll_hparams_set(hp, hs[i], eq + 1, &err);
        *eq = '=';
        if (rc != LL_OK) {
            st = tool_fail(cmd, &err);
            goto out;
        }
    }
    if (ll_hparams_validate(hp, &err) != LL_OK) {
        st = tool_fail(cmd, &err);
        goto out;
    }
    o.log = log_line;
    if (isatty(2))
        o.progress = progress;
    /* under mpirun: join the other ranks; a failure on any host ends the job on every host */
    if (ll_dist_init(&err) != LL_OK) {
        st = tool_fail(cmd, &err);
        goto out;
    }
    char who[64];
    if (ll_dist_size() > 1) {
        snprintf(who, sizeof who, "train (host algo-%d)", ll_dist_rank() + 1);
        cmd = who;
    }
    if (ll_train(hp, &o, &err) != LL_OK) {
        st = tool_fail(cmd, &err);
        ll_dist_abort(st);
    } else {
        ll_dist_finalize();
    }
out:
    free(hs);
    ll_hparams_free(hp);
    return st;
}
