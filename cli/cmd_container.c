/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_container.c - `linlearn train --sagemaker`: the SageMaker training-container entry point
 * (ll_sm_train). Metric lines go to stdout in SageMaker's log format; SIGTERM asks training to
 * checkpoint and stop. */
#include "tool.h"
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *HELP =
    "usage: linlearn train --sagemaker [--sm-root DIR] [options]\n"
    "\n"
    "Runs as SageMaker's training container (docs/CONTAINER.md): reads\n"
    "DIR/input/config/{hyperparameters,inputdataconfig,resourceconfig}.json, the channels\n"
    "train, validation and test from DIR/input/data (File: folders; Pipe: FIFOs <channel>_<n>),\n"
    "writes DIR/model/model.tar.gz and metric lines on stdout. On failure writes the reason to\n"
    "DIR/output/failure and exits non-zero. SIGTERM saves a checkpoint (when enabled) and exits\n"
    "with status 143.\n"
    "\n"
    "  --sm-root DIR            the container root (default /opt/ml)\n"
    "  --checkpoint-dir DIR     checkpoints (default DIR/checkpoints when it exists)\n"
    "  --no-checkpoints         do not save or load checkpoints\n"
    "  --pipe-timeout-ms N      how long to wait for a Pipe-mode FIFO (default 60000)\n"
    "  --seed N                 random seed (default 0)\n"
    "  --threads N              BLAS threads (default: all cores)\n"
    "  --checkpoint-steps N     also checkpoint every N mini-batch steps inside an epoch\n"
    "                           (default: $LINLEARN_CHECKPOINT_STEPS, else epoch ends only)\n"
    "  --print-hosts            print resourceconfig.json's hosts in rank order and this\n"
    "                           host's place, as shell assignments (LL_HOSTS, LL_HOST_INDEX,\n"
    "                           LL_CURRENT_HOST, LL_NIC), and exit: docker/entrypoint's plan\n"
    "\n"
    "Under mpirun (one rank per host of resourceconfig.json, rank i = host i in natural order)\n"
    "the hosts train together (docs/DISTRIBUTED.md).\n";

enum { O_SM = 1000, O_ROOT, O_CKPT, O_NOCKPT, O_PTO, O_SEED, O_THREADS, O_CKSTEPS, O_HOSTS };

static const struct option LONGOPTS[] = {
    {"sagemaker", no_argument, 0, O_SM},
    {"sm-root", required_argument, 0, O_ROOT},
    {"checkpoint-dir", required_argument, 0, O_CKPT},
    {"no-checkpoints", no_argument, 0, O_NOCKPT},
    {"pipe-timeout-ms", required_argument, 0, O_PTO},
    {"seed", required_argument, 0, O_SEED},
    {"threads", required_argument, 0, O_THREADS},
    {"checkpoint-steps", required_argument, 0, O_CKSTEPS},
    {"print-hosts", no_argument, 0, O_HOSTS},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static volatile int *g_stop; /* the signal that asked to stop (tool_stop_on_signals) */

/* the progress line on stderr (a terminal only: SageMaker's stderr is a log stream) */
static int g_drawn;
static double g_t0, g_tdraw;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress(void *ud, double done)
{
    (void)ud;
    double now = mono_s();
    if (done < 1 && now - g_tdraw < 0.2)
        return;
    g_tdraw = now;
    char eta[32];
    fprintf(stderr, "\r\033[Ktrain: %3.0f%%", done * 100);
    if (done > 0.01 && done < 1)
        fprintf(stderr, ", ETA %s",
                tool_human_secs(eta, sizeof eta, (now - g_t0) / done * (1 - done)));
    fflush(stderr);
    g_drawn = 1;
}

static void log_line(void *ud, const char *line)
{
    (void)ud;
    if (g_drawn) {
        fputs("\r\033[K", stderr);
        g_drawn = 0;
    }
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%m/%d/%Y %H:%M:%S", &tm);
    char shown[2048];
    printf("[%s INFO %ld] %s\n", ts, (long)getpid(), ll_redact(line, shown, sizeof shown));
    fflush(stdout);
}

static int parse_u64(const char *s, unsigned long long *v)
{
    char *end;
    if (!*s || *s == '-')
        return 0;
    *v = strtoull(s, &end, 10);
    return *end == 0;
}

int cmd_train_sagemaker(int argc, char **argv)
{
    const char *cmd = "train --sagemaker";
    ll_sm_opts o;
    ll_sm_opts_init(&o);
    unsigned long long u;
    int c, print_hosts = 0, ck_steps_set = 0;
    optind = 1;
    while ((c = tool_getopt(argc, argv, "h", LONGOPTS)) != -1) {
        switch (c) {
        case O_SM:
            break;
        case O_ROOT:
            o.root = optarg;
            break;
        case O_CKPT:
            o.checkpoint_dir = optarg;
            break;
        case O_NOCKPT:
            o.checkpoint_dir = "";
            break;
        case O_PTO:
            if (!parse_u64(optarg, &u) || u > 86400000)
                return tool_usage_error(cmd, "bad --pipe-timeout-ms '%s'", optarg);
            o.pipe_timeout_ms = (unsigned)u;
            break;
        case O_SEED:
            if (!parse_u64(optarg, &u))
                return tool_usage_error(cmd, "bad --seed '%s'", optarg);
            o.seed = u;
            break;
        case O_THREADS:
            if (!parse_u64(optarg, &u) || u > 1024)
                return tool_usage_error(cmd, "bad --threads '%s'", optarg);
            o.threads = (int)u;
            break;
        case O_CKSTEPS:
            if (!parse_u64(optarg, &u))
                return tool_usage_error(cmd, "bad --checkpoint-steps '%s'", optarg);
            o.checkpoint_steps = u;
            ck_steps_set = 1;
            break;
        case O_HOSTS:
            print_hosts = 1;
            break;
        case 'h':
            fputs(HELP, stdout);
            return 0;
        default:
            tool_bad_option(cmd, argv, LONGOPTS);
            fprintf(stderr, "(train --sagemaker takes its settings from the config files)\n");
            return 2;
        }
    }
    if (optind < argc)
        return tool_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    ll_err err;
    if (print_hosts) {
        static char hosts[65536];
        uint32_t cur = 0;
        char nic[64];
        if (ll_sm_hosts(o.root, hosts, sizeof hosts, &cur, nic, &err) != LL_OK)
            return tool_fail(cmd, &err);
        const char *me = hosts;
        for (uint32_t i = 0; i < cur; i++)
            me = strchr(me, ' ') + 1;
        size_t ml = strcspn(me, " ");
        /* names are [A-Za-z0-9.-_] only (checked), so these lines are safe for sh's eval */
        printf("LL_HOSTS='%s'\nLL_HOST_INDEX=%u\nLL_CURRENT_HOST='%.*s'\nLL_NIC='%s'\n", hosts, cur,
               (int)ml, me, nic);
        return 0;
    }
    const char *env_steps = getenv("LINLEARN_CHECKPOINT_STEPS");
    if (!ck_steps_set && env_steps && *env_steps) {
        if (!parse_u64(env_steps, &u))
            return tool_usage_error(cmd, "bad LINLEARN_CHECKPOINT_STEPS '%s'", env_steps);
        o.checkpoint_steps = u;
    }
    g_stop = tool_stop_on_signals();
    o.stop = g_stop;
    o.log = log_line;
    if (isatty(2)) {
        g_t0 = mono_s();
        o.progress = progress;
    }
    /* under mpirun (docker/entrypoint on algo-1, or local-job with InstanceCount > 1): join the
     * other hosts' ranks; a failure on one host ends the job on every host */
    if (ll_dist_init(&err) != LL_OK) {
        char buf[1400];
        ll_sm_failure_text(&err, buf, sizeof buf);
        ll_err e2;
        ll_sm_write_failure(o.root, &err, &e2);
        fprintf(stderr, "linlearn %s: %s\n", cmd, buf);
        return 2;
    }
    char who[64];
    if (ll_dist_size() > 1) {
        snprintf(who, sizeof who, "train --sagemaker (host algo-%d)", ll_dist_rank() + 1);
        cmd = who;
    }
    ll_blas_set_threads(tool_train_blas_threads(o.threads));
    ll_code rc = ll_sm_train(&o, &err);
    int st = 0;
    if (rc == LL_OK) {
        ll_dist_finalize();
        return 0;
    }
    if (tool_stop_signal() && rc == LL_E_STATE) {
        log_line(NULL, "Stopped by SIGTERM.");
        st = 128 + SIGTERM;
    } else {
        char buf[1400];
        ll_sm_failure_text(&err, buf, sizeof buf);
        fprintf(stderr, "linlearn %s: %s\n", cmd, buf);
        st = tool_exit_code(rc);
        st = st ? st : 5;
    }
    if (ll_dist_size() > 1) /* the other hosts would wait for this one: end the job */
        ll_dist_abort(st);
    ll_dist_finalize();
    return st;
}
