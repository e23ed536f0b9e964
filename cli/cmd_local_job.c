/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_local_job.c - `linlearn local-job`: runs a CreateTrainingJob-shaped JSON document on this
 * machine (ll_job_run): the container runs as a child process, Pipe channels are fed through
 * FIFOs, and the model goes to the output path (local or S3). */
#include "tool.h"
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *HELP =
    "usage: linlearn local-job --job JOB.json [options]\n"
    "\n"
    "Runs a SageMaker training job locally (docs/CONTAINER.md). JOB.json is shaped like a\n"
    "CreateTrainingJob request: TrainingJobName, AlgorithmSpecification.TrainingInputMode,\n"
    "HyperParameters, InputDataConfig (S3Uri: s3://, a local path or file://),\n"
    "OutputDataConfig.S3OutputPath, ResourceConfig, StoppingCondition.MaxRuntimeInSeconds,\n"
    "CheckpointConfig.S3Uri, Environment. The model lands in\n"
    "<S3OutputPath>/<TrainingJobName>/output/model.tar.gz (and output/failure on failure).\n"
    "The exit status is the container's: 0 when the job completed.\n"
    "\n"
    "  --job FILE               the job document (required)\n"
    "  --root DIR               lay out the /opt/ml-style root here and keep it\n"
    "                           (default: a temporary folder, removed afterwards)\n"
    "  --keep-root              keep the temporary root\n"
    "  --grace-s N              seconds between SIGTERM and SIGKILL at the limit (default 120)\n"
    "  --container PROGRAM      run PROGRAM train --sagemaker --sm-root ROOT as the container\n"
    "                           (default: this linlearn)\n"
    "  --endpoint-url URL       S3-compatible endpoint for s3:// inputs and outputs\n"
    "  --mpirun PROGRAM         Open MPI's launcher for InstanceCount > 1 (default: mpirun)\n"
    "\n"
    "With ResourceConfig.InstanceCount N > 1 the job runs as N MPI ranks on this machine\n"
    "(docs/DISTRIBUTED.md): ROOT/algo-1 .. ROOT/algo-N are the hosts' /opt/ml roots, each\n"
    "with its resourceconfig.json and its share of ShardedByS3Key channels; algo-1 writes\n"
    "the model that is uploaded.\n";

enum { O_JOB = 1000, O_ROOT, O_KEEP, O_GRACE, O_EXE, O_EP, O_MPIRUN };

static const struct option LONGOPTS[] = {
    {"job", required_argument, 0, O_JOB},
    {"root", required_argument, 0, O_ROOT},
    {"keep-root", no_argument, 0, O_KEEP},
    {"grace-s", required_argument, 0, O_GRACE},
    {"container", required_argument, 0, O_EXE},
    {"endpoint-url", required_argument, 0, O_EP},
    {"mpirun", required_argument, 0, O_MPIRUN},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static volatile int *g_stop; /* the signal that asked to stop (tool_stop_on_signals) */

static void log_line(void *ud, const char *line)
{
    (void)ud;
    char shown[2048];
    fprintf(stderr, "local-job: %s\n", ll_redact(line, shown, sizeof shown));
}

int cmd_local_job(int argc, char **argv)
{
    const char *cmd = "local-job";
    ll_job_opts o;
    ll_job_opts_init(&o);
    int c;
    char *end;
    optind = 1;
    while ((c = tool_getopt(argc, argv, "h", LONGOPTS)) != -1) {
        switch (c) {
        case O_JOB:
            o.job = optarg;
            break;
        case O_ROOT:
            o.root = optarg;
            break;
        case O_KEEP:
            o.keep_root = 1;
            break;
        case O_GRACE: {
            unsigned long v = strtoul(optarg, &end, 10);
            if (!*optarg || *end || v > 86400)
                return tool_usage_error(cmd, "bad --grace-s '%s'", optarg);
            o.grace_s = (unsigned)v;
            break;
        }
        case O_EXE:
            o.exe = optarg;
            break;
        case O_EP:
            o.endpoint = optarg;
            break;
        case O_MPIRUN:
            o.mpirun = optarg;
            break;
        case 'h':
            fputs(HELP, stdout);
            return 0;
        default:
            return tool_bad_option(cmd, argv, LONGOPTS);
        }
    }
    if (optind < argc)
        return tool_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!o.job)
        return tool_usage_error(cmd, "--job is required");
    /* the container is this program, unless --container says otherwise */
    static char self[4096];
    if (!o.exe) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "linlearn %s: cannot find this program's path; give --container\n",
                    cmd);
            return 1;
        }
        self[n] = 0;
        o.exe = self;
    }
    g_stop = tool_stop_on_signals();
    signal(SIGPIPE, SIG_IGN);
    o.stop = g_stop;
    o.log = log_line;
    ll_err err;
    int status = 1;
    if (ll_job_run(&o, &status, &err) != LL_OK)
        return tool_fail(cmd, &err);
    return status;
}
