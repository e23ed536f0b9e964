/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_serve.c - `linlearn serve`: loads a model and answers SageMaker's inference protocol
 * until SIGTERM or SIGINT, then stops accepting and finishes the requests in flight. */
#include "tool.h"
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *HELP =
    "usage: linlearn serve --model MODEL [options]\n"
    "       linlearn serve --sagemaker [--sm-root DIR]\n"
    "\n"
    "Serves a model over HTTP with SageMaker's hosting protocol:\n"
    "  GET /ping                   200 once the model is loaded\n"
    "  POST /invocations           Content-Type: text/csv, application/json,\n"
    "                              application/jsonlines, application/x-recordio-protobuf;\n"
    "                              Accept: application/json (default), application/jsonlines,\n"
    "                              application/x-recordio-protobuf, text/csv\n"
    "  GET /execution-parameters   batch transform settings\n"
    "\n"
    "  --model PATH            model.tar.gz (linlearn's or SageMaker's), model_algo-1, or a\n"
    "                          folder holding one (docs/MODEL.md)\n"
    "  --host ADDR             address to bind (default 127.0.0.1)\n"
    "  --port N                port (default 8080; 0 picks a free one, printed on stderr)\n"
    "  --threads N             worker threads (default: the number of CPUs)\n"
    "  --max-payload SIZE      largest request body (default 6M): larger is 413\n"
    "  --timeout SECONDS       close idle or stalled connections (default 60)\n"
    "  --header-timeout SECONDS  a request line and headers must be in within this,\n"
    "                          however slowly they come (default 10, at most --timeout)\n"
    "  --mini-batch-size N     rows scored at a time within a request (default 1000)\n"
    "  --sagemaker             container mode: model from /opt/ml/model, host 0.0.0.0, port\n"
    "                          8080 or $SAGEMAKER_BIND_TO_PORT, payload limit from\n"
    "                          $SAGEMAKER_MAX_PAYLOAD_IN_MB\n"
    "  --sm-root DIR           the /opt/ml of --sagemaker (for tests)\n"
    "\n"
    "SIGTERM or SIGINT stops accepting connections, lets the requests in flight finish\n"
    "(up to 25 s) and exits 0.\n";

enum {
    S_MODEL = 300,
    S_HOST,
    S_PORT,
    S_THREADS,
    S_MAXPAY,
    S_TIMEOUT,
    S_HTIMEOUT,
    S_BATCH,
    S_SM,
    S_SMROOT,
};

static const struct option LONGOPTS[] = {
    {"model", required_argument, 0, S_MODEL},
    {"host", required_argument, 0, S_HOST},
    {"port", required_argument, 0, S_PORT},
    {"threads", required_argument, 0, S_THREADS},
    {"max-payload", required_argument, 0, S_MAXPAY},
    {"timeout", required_argument, 0, S_TIMEOUT},
    {"header-timeout", required_argument, 0, S_HTIMEOUT},
    {"mini-batch-size", required_argument, 0, S_BATCH},
    {"sagemaker", no_argument, 0, S_SM},
    {"sm-root", required_argument, 0, S_SMROOT},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static int num(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
    char *end;
    unsigned long x = strtoul(s, &end, 10);
    if (!*s || *end || s[0] == '-' || x < lo || x > hi)
        return 0;
    *v = x;
    return 1;
}

int cmd_serve(int argc, char **argv)
{
    ll_serve_opts so;
    ll_serve_opts_init(&so);
    const char *model = NULL, *sm_root = "/opt/ml";
    int sagemaker = 0, port_set = 0, host_set = 0, pay_set = 0;
    unsigned long v;
    int c;
    optind = 1;
    while ((c = tool_getopt(argc, argv, "h", LONGOPTS)) != -1) {
        switch (c) {
        case 'h':
            fputs(HELP, stdout);
            return 0;
        case S_MODEL:
            model = optarg;
            break;
        case S_HOST:
            so.host = optarg;
            host_set = 1;
            break;
        case S_PORT:
            if (!num(optarg, 0, 65535, &v))
                return tool_usage_error("serve", "--port takes 0 to 65535, not '%s'", optarg);
            so.port = (uint16_t)v;
            port_set = 1;
            break;
        case S_THREADS:
            if (!num(optarg, 1, 1024, &v))
                return tool_usage_error("serve", "--threads takes 1 to 1024, not '%s'", optarg);
            so.threads = (unsigned)v;
            break;
        case S_MAXPAY:
            so.max_payload = (size_t)tool_parse_size(optarg);
            if (!so.max_payload)
                return tool_usage_error("serve", "--max-payload takes a size such as 6M");
            pay_set = 1;
            break;
        case S_TIMEOUT:
            if (!num(optarg, 1, 86400, &v))
                return tool_usage_error("serve", "--timeout takes 1 to 86400 seconds");
            so.timeout_s = (unsigned)v;
            break;
        case S_HTIMEOUT:
            if (!num(optarg, 1, 86400, &v))
                return tool_usage_error("serve", "--header-timeout takes 1 to 86400 seconds");
            so.header_timeout_s = (unsigned)v;
            break;
        case S_BATCH:
            if (!num(optarg, 1, 10000000, &v))
                return tool_usage_error("serve", "--mini-batch-size takes 1 to 1e7");
            so.batch_rows = (size_t)v;
            break;
        case S_SM:
            sagemaker = 1;
            break;
        case S_SMROOT:
            sm_root = optarg;
            break;
        default:
            return tool_bad_option("serve", argv, LONGOPTS);
        }
    }
    if (optind != argc)
        return tool_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    char sm_model[4096];
    if (sagemaker) {
        if (!model) {
            snprintf(sm_model, sizeof sm_model, "%s/model", sm_root);
            model = sm_model;
        }
        if (!host_set)
            so.host = "0.0.0.0";
        const char *e = getenv("SAGEMAKER_BIND_TO_PORT");
        if (!port_set && e && *e) {
            if (!num(e, 0, 65535, &v))
                return tool_usage_error("serve", "SAGEMAKER_BIND_TO_PORT is not a port: '%s'", e);
            so.port = (uint16_t)v;
        }
        e = getenv("SAGEMAKER_MAX_PAYLOAD_IN_MB");
        if (!pay_set && e && *e && num(e, 1, 100000, &v))
            so.max_payload = (size_t)v << 20;
        e = getenv("SAGEMAKER_MAX_CONCURRENT_TRANSFORMS");
        if (e && *e && num(e, 1, 1024, &v))
            so.max_concurrent_transforms = (unsigned)v;
    }
    if (!model)
        return tool_usage_error("serve", "--model is required (or --sagemaker)");

    /* the signals are taken by sigwait below; threads started from here inherit the mask */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    ll_err err;
    ll_model *m = NULL;
    if (ll_model_load(model, &m, &err) != LL_OK)
        return tool_fail("serve", &err);
    ll_server *s = NULL;
    ll_blas_set_threads(1); /* the workers score in parallel */
    if (ll_server_start(m, &so, &s, &err) != LL_OK) {
        ll_model_free(m);
        return tool_fail("serve", &err);
    }
    fprintf(stderr, "linlearn serve: %s model, %llu features; listening on http://%s:%u\n",
            ll_predictor_name(ll_model_predictor(m)), (unsigned long long)ll_model_feature_dim(m),
            so.host, ll_server_port(s));
    fflush(stderr);
    int sig = 0;
    sigwait(&set, &sig);
    unsigned in_flight = 0;
    ll_server_stats(s, NULL, &in_flight);
    fprintf(stderr, "linlearn serve: %s: stopping (%u requests in flight)\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", in_flight);
    ll_server_stop(s, 25000);
    ll_model_free(m);
    fprintf(stderr, "linlearn serve: stopped\n");
    return 0;
}
