/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_train.c - `linlearn train`: options to ll_train_opts/ll_hparams; the log for people (one
 * line an epoch, a closing summary) or SageMaker's metric lines on stdout; a progress line on
 * stderr when it is a terminal; the HTML report. */
#include "tool.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
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
    "  --model-dir DIR          write DIR/model.tar.gz (without it the model is not saved)\n"
    "  --metrics-json FILE      write the run's summary, metrics and history as JSON\n"
    "  --report FILE            write the HTML training report (docs/REPORT.md)\n"
    "  --log-format people|sagemaker\n"
    "                           people: one line an epoch and a closing summary (default on\n"
    "                           a terminal); sagemaker: SageMaker's exact log and metric lines\n"
    "                           (default when stdout is not a terminal)\n"
    "  --log-file FILE          also write SageMaker's lines to FILE\n"
    "  --progress, --no-progress  force the progress line on stderr on or off (default: on\n"
    "                           when stderr is a terminal)\n"
    "  --list-hyperparameters   print every hyperparameter, its default and valid values\n"
    "  --initial-model MODEL    warm start: every model starts from MODEL's weights (same\n"
    "                           predictor_type and feature_dim)\n"
    "  --exact-final-metrics    score the selected model's final metrics on the selection\n"
    "                           channel in a pass of their own (docs/TRAINING.md)\n"
    "  --cache-mb N             memory for passes kept decoded, so later passes over a\n"
    "                           channel replay them instead of reading it again (same results;\n"
    "                           0: none; default: LINLEARN_CACHE_MB, else a quarter of the\n"
    "                           memory, at most 2048)\n"
    "  --seed N                 random seed (default 0); same seed and threads, same model\n"
    "  --threads N              kernel threads: BLAS, sparse steps, CSV/LIBSVM parsing\n"
    "                           (default: all cores)\n"
    "  --label-column N  --header  --delimiter C  --index-base 0|1\n"
    "                           input options as for convert\n"
    "  --sagemaker [--sm-root DIR]  run as SageMaker's training container: settings from\n"
    "                           /opt/ml/input/config, data from /opt/ml/input/data, model to\n"
    "                           /opt/ml/model (docs/CONTAINER.md; train --sagemaker --help)\n"
    "  --checkpoint-dir DIR     save the state after every epoch; a run that finds a\n"
    "                           matching checkpoint there continues from it\n"
    "  --checkpoint-steps N     also save it every N mini-batch steps inside an epoch (across\n"
    "                           hosts too), so a killed run resumes mid-epoch\n"
    "\n"
    "Across hosts (under mpirun, docs/DISTRIBUTED.md; rank r is host algo-(r+1)):\n"
    "  --shard auto|files|records|none  how the train channel is split (default auto: whole\n"
    "                           objects when there are at least as many as hosts, else records)\n"
    "  --average-steps H        average the models every H batches instead of summing the\n"
    "                           gradients every step (default 1: every step)\n"
    "  --dist-timeout S         a host waiting S seconds for the others ends the job (300)\n"
    "\n"
    "Hyperparameters (-H NAME=VALUE; --list-hyperparameters shows defaults and ranges):\n"
    "  predictor_type (required), num_classes (multiclass), feature_dim, epochs,\n"
    "  mini_batch_size, num_models, learning_rate, optimizer, loss, wd, l1, ...\n"
    "\n"
    "Example:\n"
    "  linlearn train --train train.csv --validation val.csv -H predictor_type=regressor \\\n"
    "      --model-dir model/ --metrics-json metrics.json --report report.html\n";

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
    O_REPORT,
    O_LOGFMT,
    O_LOGFILE,
    O_PROGRESS,
    O_NOPROGRESS,
    O_LISTHP,
    O_SHARD,
    O_AVG,
    O_DTO,
    O_CKPT,
    O_INITIAL,
    O_EXACT,
    O_CKSTEPS,
    O_CACHE,
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
    {"report", required_argument, 0, O_REPORT},
    {"log-format", required_argument, 0, O_LOGFMT},
    {"log-file", required_argument, 0, O_LOGFILE},
    {"progress", no_argument, 0, O_PROGRESS},
    {"no-progress", no_argument, 0, O_NOPROGRESS},
    {"list-hyperparameters", no_argument, 0, O_LISTHP},
    {"shard", required_argument, 0, O_SHARD},
    {"average-steps", required_argument, 0, O_AVG},
    {"dist-timeout", required_argument, 0, O_DTO},
    {"checkpoint-dir", required_argument, 0, O_CKPT},
    {"checkpoint-steps", required_argument, 0, O_CKSTEPS},
    {"initial-model", required_argument, 0, O_INITIAL},
    {"exact-final-metrics", no_argument, 0, O_EXACT},
    {"cache-mb", required_argument, 0, O_CACHE},
    {"label-column", required_argument, 0, O_LABEL_COL},
    {"header", no_argument, 0, O_HEADER},
    {"delimiter", required_argument, 0, O_DELIM},
    {"index-base", required_argument, 0, O_INDEX_BASE},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* Where the log goes: SageMaker's lines (stdout and/or a file) or the people's log. */
typedef struct tlog {
    int people;    /* stdout gets the people's log */
    FILE *file;    /* --log-file: SageMaker's lines */
    int progress;  /* stderr gets the progress line */
    char *summary; /* the metrics document (ll_train_opts.summary) */
    double t_start, t_draw, rows_per_s;
    uint32_t epoch, epochs;
    int drawn; /* a progress line is on the screen */
} tlog;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void clear_progress(tlog *t)
{
    if (t->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        t->drawn = 0;
    }
}

static void sm_line(FILE *f, const char *line)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%m/%d/%Y %H:%M:%S", &tm);
    fprintf(f, "[%s INFO %ld] %s\n", ts, (long)getpid(), line);
    fflush(f);
}

static void log_line(void *ud, const char *raw)
{
    tlog *t = ud;
    char shown[2048];
    const char *line = ll_redact(raw, shown, sizeof shown);
    if (t->file)
        sm_line(t->file, line);
    if (!t->people) {
        clear_progress(t);
        sm_line(stdout, line);
        return;
    }
    /* the people's log keeps the sentences that are news, not the metric lines the epoch
     * lines and the summary already say */
    if (line[0] == '#' || !strncmp(line, "Epoch ", 6) || !strncmp(line, "Best model found", 16) ||
        !strncmp(line, "Saving model for epoch", 22) || !strncmp(line, "Saved checkpoint", 16) ||
        !strcmp(line, "Test data is not provided."))
        return;
    clear_progress(t);
    printf("%s\n", line);
    fflush(stdout);
}

/* One line an epoch: epoch, best train / validation objective, criterion, rows/s, ETA. */
static void on_epoch(void *ud, const ll_epoch_info *e)
{
    tlog *t = ud;
    t->epoch = e->epoch + 1;
    t->epochs = e->epochs;
    t->rows_per_s = e->rows_per_s;
    if (!t->people)
        return;
    clear_progress(t);
    char r[32], eta[32];
    if (e->epoch == 0)
        printf("objective: %s (best of the models); early stopping on %s\n", e->objective,
               e->criterion);
    printf("epoch %3u/%-3u  train %-10.6g", e->epoch + 1, e->epochs, e->train_objective);
    if (!isnan(e->validation_objective))
        printf("  validation %-10.6g", e->validation_objective);
    if (strcmp(e->criterion, e->objective))
        printf("  %s %-8.6g", e->criterion, e->criterion_value);
    printf("  %s rows/s", tool_human_count(r, sizeof r, e->rows_per_s));
    if (e->epoch + 1 < e->epochs)
        printf("  ETA %s", tool_human_secs(eta, sizeof eta, e->eta_s));
    printf("\n");
    fflush(stdout);
}

/* The progress line on stderr, redrawn at most 5 times a second. */
static void progress(void *ud, double done)
{
    tlog *t = ud;
    if (!t->progress)
        return;
    double now = mono_s();
    if (done < 1 && now - t->t_draw < 0.2)
        return;
    t->t_draw = now;
    double el = now - t->t_start;
    char r[32], eta[32];
    uint32_t ep = t->epoch + (done < 1);
    if (t->epochs && ep > t->epochs)
        ep = t->epochs;
    fprintf(stderr, "\r\033[Ktrain: %3.0f%%  epoch %u/%u", done * 100, ep, t->epochs);
    if (t->rows_per_s > 0)
        fprintf(stderr, "  %s rows/s", tool_human_count(r, sizeof r, t->rows_per_s));
    if (done > 0.01 && done < 1)
        fprintf(stderr, "  ETA %s", tool_human_secs(eta, sizeof eta, el / done * (1 - done)));
    fflush(stderr);
    t->drawn = 1;
}

static void on_summary(void *ud, const char *json)
{
    tlog *t = ud;
    free(t->summary);
    t->summary = strdup(json);
}

static void list_hyperparameters(void)
{
    const char *name, *def, *range;
    printf("%-44s %-10s %s\n", "hyperparameter", "default", "valid values");
    for (size_t i = 0; ll_hparams_info(i, &name, &def, &range); i++)
        if (name[0] != '_')
            printf("%-44s %-10s %s\n", name, def ? def : "(required)", range);
}

static int parse_u64(const char *s, unsigned long long *v)
{
    char *end;
    if (!*s || *s == '-')
        return 0;
    *v = strtoull(s, &end, 10);
    return *end == 0;
}

static volatile int *g_stop; /* the signal that asked to stop (tool_stop_on_signals) */

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
    const char *hpfile = NULL, *logfmt = NULL, *logfile = NULL;
    int prog = -1;
    tlog tl;
    memset(&tl, 0, sizeof tl);
    /* -H values are applied after the file, so they override it */
    char **hs = calloc((size_t)argc, sizeof *hs);
    int nh = 0, c, st = 0;
    unsigned long long u;
    optind = 1;
    while ((c = tool_getopt(argc, argv, "H:h", LONGOPTS)) != -1) {
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
        case O_INITIAL:
            o.initial_model = optarg;
            break;
        case O_EXACT:
            o.exact_final_metrics = 1;
            break;
        case O_CACHE:
            if (!parse_u64(optarg, &u) || u > ((uint64_t)1 << 40)) {
                st = tool_usage_error(cmd, "bad --cache-mb '%s' (want MiB, 0 for none)", optarg);
                goto out;
            }
            o.cache_mb = u ? (int64_t)u : -1;
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
        case O_REPORT:
            o.report = optarg;
            break;
        case O_LOGFMT:
            if (strcmp(optarg, "people") && strcmp(optarg, "sagemaker")) {
                st = tool_usage_error(cmd, "--log-format is people or sagemaker, not '%s'", optarg);
                goto out;
            }
            logfmt = optarg;
            break;
        case O_LOGFILE:
            logfile = optarg;
            break;
        case O_PROGRESS:
            prog = 1;
            break;
        case O_NOPROGRESS:
            prog = 0;
            break;
        case O_LISTHP:
            list_hyperparameters();
            goto out;
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
            o.average_steps = u;
            break;
        case O_DTO:
            if (!parse_u64(optarg, &u) || u < 1 || u > 86400) {
                st = tool_usage_error(cmd, "bad --dist-timeout '%s' (1 to 86400 seconds)", optarg);
                goto out;
            }
            o.dist_timeout_s = u;
            break;
        case O_CKPT:
            o.checkpoint_dir = optarg;
            break;
        case O_CKSTEPS:
            if (!parse_u64(optarg, &u)) {
                st = tool_usage_error(cmd, "bad --checkpoint-steps '%s'", optarg);
                goto out;
            }
            o.checkpoint_steps = u;
            break;
        case 'h':
            fputs(HELP, stdout);
            goto out;
        default:
            st = tool_bad_option(cmd, argv, LONGOPTS);
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
    tl.people = logfmt ? !strcmp(logfmt, "people") : isatty(1);
    tl.progress = prog >= 0 ? prog : isatty(2);
    tl.t_start = mono_s();
    if (logfile && !(tl.file = fopen(logfile, "w"))) {
        fprintf(stderr, "linlearn train: %s: cannot open the log file: %s\n", logfile,
                strerror(errno));
        st = 3;
        goto out;
    }
    if (!o.model_dir)
        fprintf(stderr, "linlearn train: warning: no --model-dir: the trained model will not be "
                        "written\n");
    o.log = log_line;
    o.epoch = on_epoch;
    o.progress = progress;
    o.ud = &tl;
    if (tl.people)
        o.summary = on_summary;
    /* SIGTERM/SIGINT stop training promptly, even while it waits for a Pipe-mode FIFO */
    g_stop = tool_stop_on_signals();
    o.stop = g_stop;
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
    ll_blas_set_threads(tool_train_blas_threads(o.threads));
    tool_parse_threads(&o.parse, o.threads > 0 ? (uint64_t)o.threads : 0);
    ll_code trc = ll_train(hp, &o, &err);
    if (trc != LL_OK && ll_dist_size() > 1) {
        st = trc == LL_E_STATE && tool_stop_signal() ? 128 + tool_stop_signal()
                                                     : tool_fail(cmd, &err);
        ll_dist_abort(st);
    }
    ll_dist_finalize();
    if (trc == LL_E_STATE && tool_stop_signal()) {
        clear_progress(&tl);
        fprintf(stderr, "linlearn %s: stopped by signal %d; no model written\n", cmd,
                tool_stop_signal());
        st = 128 + tool_stop_signal();
        goto out;
    } else if (trc != LL_OK) {
        clear_progress(&tl);
        st = tool_fail(cmd, &err);
        goto out;
    }
    clear_progress(&tl);
    if (tl.people && tl.summary) {
        char *sum = ll_report_summary(tl.summary);
        if (sum)
            printf("\n%s", sum);
        free(sum);
    }
    if (tl.people) {
        if (o.model_dir)
            printf("model written to %s/model.tar.gz\n", o.model_dir);
        else
            printf("model not written (no --model-dir)\n");
        if (o.metrics_json)
            printf("metrics written to %s\n", o.metrics_json);
        if (o.report)
            printf("report written to %s\n", o.report);
    } else if (o.report)
        fprintf(stderr, "report written to %s\n", o.report);
out:
    if (tl.file)
        fclose(tl.file);
    free(tl.summary);
    free(hs);
    ll_hparams_free(hp);
    return st;
}
