/* SPDX-License-Identifier: Apache-2.0 */
/*
 * job.h - the parts of `linlearn local-job` (ll_job_run) that tests reach directly: parsing a
 * CreateTrainingJob-shaped document into a job description and writing the container's config
 * files from it. Running the child and moving data live in job.c.
 */
#ifndef LL_JOB_H
#define LL_JOB_H
#include "linlearn.h"
#include <jansson.h>

typedef struct job_channel {
    char name[65];
    const char *uri;          /* S3Uri (s3://, a local path, file://path) */
    int pipe;                 /* InputMode (or the job's TrainingInputMode) is Pipe */
    int fastfile;             /* FastFile: copied like File */
    const char *content_type; /* NULL when absent */
    int sharded, record_wrap, gzip, manifest;
    int shuffle;
    uint64_t seed;
} job_channel;

typedef struct job_spec {
    json_t *doc; /* owns every string below */
    const char *name;
    json_t *hyperparameters; /* object (borrowed from doc) */
    job_channel *ch;
    size_t n_ch;
    const char *output;      /* OutputDataConfig.S3OutputPath */
    const char *ckpt_uri;    /* CheckpointConfig.S3Uri, or NULL */
    uint32_t instance_count; /* ResourceConfig.InstanceCount (default 1) */
    uint64_t max_runtime_s;  /* StoppingCondition.MaxRuntimeInSeconds (default 86400) */
    json_t *environment;     /* object or NULL */
} job_spec;

/* Parses the document (name is used in messages). Unknown keys are ignored; LL_E_ARG names the
 * key that is missing or wrong. */
ll_code job_parse(const char *text, size_t len, const char *name, job_spec *out, ll_err *err);
void job_spec_deinit(job_spec *j);

/* Creates root/{input/config,input/data,model,output/data,checkpoints} and writes
 * hyperparameters.json, inputdataconfig.json and resourceconfig.json (current_host algo-1,
 * hosts algo-1..algo-<InstanceCount>). */
ll_code job_layout(const job_spec *j, const char *root, ll_err *err);
/* The same for host h (0-based) of the job: current_host is algo-(h+1). */
ll_code job_layout_host(const job_spec *j, const char *root, uint32_t h, ll_err *err);

/* InstanceCount > 1: the mpirun command line that starts host h's container (exe train
 * --sagemaker --sm-root roots[h]) as rank h, one rank per host root (MPMD: "-np 1 ... : -np 1
 * ..."). Fills argv (cap entries, NULL-terminated; the strings are exe, mpirun, roots and
 * static text, borrowed) and returns the count, 0 when cap is too small. */
size_t job_mpirun_argv(const char *mpirun, const char *exe, char *const *roots, uint32_t n,
                       char **argv, size_t cap);
#endif
