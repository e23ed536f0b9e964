/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sm_config.h - the SageMaker training-container configuration files under <root>/input/config:
 * inputdataconfig.json (per-channel input mode, content type, distribution, wrapping,
 * compression, shuffle) and resourceconfig.json (current host and host list). Parsing only;
 * hyperparameters.json goes through ll_hparams_load_json, and what the values mean for a run
 * is decided by container.c.
 */
#ifndef LL_SMCFG_H
#define LL_SMCFG_H
#include "linlearn.h"

typedef enum { SM_FILE = 0, SM_PIPE = 1, SM_FASTFILE = 2 } sm_mode;

typedef struct sm_channel {
    char name[65];          /* [A-Za-z0-9.-_]{1,64} */
    sm_mode mode;           /* TrainingInputMode (compared case-insensitively) */
    char content_type[128]; /* "" when the key is absent */
    int sharded;            /* S3DistributionType ShardedByS3Key */
    int record_wrap;        /* RecordWrapperType RecordIO */
    int gzip;               /* CompressionType Gzip */
    int shuffle;            /* ShuffleConfig present */
    uint64_t shuffle_seed;  /* ShuffleConfig.Seed */
} sm_channel;

typedef struct sm_input {
    sm_channel *ch;
    size_t n;
} sm_input;

typedef struct sm_resource {
    char current_host[128];
    size_t n_hosts;
    char (*hosts)[128];  /* in natural order (sm_config_host_cmp): algo-1, algo-2, ..., algo-10 */
    uint32_t host_index; /* position of current_host in hosts: its rank under mpirun */
    char nic[64];        /* network_interface_name, default "eth0" */
} sm_resource;

/* Parses inputdataconfig.json text (len bytes; name is used in messages). Unknown keys are
 * ignored; TrainingInputMode is required, every other key optional. LL_E_ARG names the
 * channel, the key and the bad value. */
ll_code sm_config_parse_input(const char *text, size_t len, const char *name, sm_input *out,
                              ll_err *err);
/* The same from a file. */
ll_code sm_config_load_input(const char *path, sm_input *out, ll_err *err);
void sm_config_input_deinit(sm_input *in);
/* The channel called name, or NULL. */
const sm_channel *sm_config_channel(const sm_input *in, const char *name);

ll_code sm_config_parse_resource(const char *text, size_t len, const char *name, sm_resource *out,
                                 ll_err *err);
/* Natural order of host names (digit runs compare as numbers: algo-2 < algo-10). */
int sm_config_host_cmp(const char *a, const char *b);
/* A host name safe on a command line and in a hostfile: 1-127 of [A-Za-z0-9.-_]. */
int sm_config_host_name_ok(const char *h);
ll_code sm_config_load_resource(const char *path, sm_resource *out, ll_err *err);
void sm_config_resource_deinit(sm_resource *rc);

/* Parses "text/csv;label_size=1" and friends into parse options: format, and the CSV label
 * column (label_size=0: no label). An empty type leaves the format to detection. LL_E_ARG for
 * a type Linear Learner does not read. */
ll_code sm_config_content_type(const char *ct, ll_parse_opts *po, ll_err *err);
#endif
