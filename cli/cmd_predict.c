/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_predict.c - `linlearn predict`: batch transform of a file or stream with a model, in the
 * response formats of the hosting protocol (plus CSV). */
#include "tool.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *HELP =
    "usage: linlearn predict --model MODEL [options] IN OUT\n"
    "\n"
    "Scores every row of IN and writes one prediction per row to OUT, streaming in\n"
    "mini-batches (constant memory). IN and OUT are paths or - for stdin/stdout.\n"
    "\n"
    "  --model PATH            model.tar.gz (linlearn's or SageMaker's), model_algo-1, or a\n"
    "                          folder holding one (docs/MODEL.md)\n"
    "  --content-type T        input: text/csv (features only), application/json\n"
    "                          ({\"instances\": [...]}, read whole), application/jsonlines,\n"
    "                          application/x-recordio-protobuf; default: from IN's extension\n"
    "                          (.csv .json .jsonl .pbr ...), else from its first bytes\n"
    "  --accept A              output: application/json (SageMaker's default),\n"
    "                          application/jsonlines, application/x-recordio-protobuf,\n"
    "                          text/csv (predicted_label,score...); default: from OUT's\n"
    "                          extension (.json .jsonl .pbr .csv), else application/json\n"
    "  --label-column N        CSV input carries a label in column N (it is skipped)\n"
    "  --header                CSV: skip one header line\n"
    "  --delimiter C           CSV: ',' (default), 'tab' or another character\n"
    "  --mini-batch-size N     rows scored at a time (default 1000)\n"
    "  --threads N             threads of the matrix kernels (default: the library's) and\n"
    "                          of parsing CSV/LIBSVM input (default: one per core)\n"
    "  --progress | --no-progress  the progress line on stderr (default: when stderr is\n"
    "                          a terminal)\n"
    "\n"
    "Examples:\n"
    "  linlearn predict --model model.tar.gz test.csv predictions.jsonl\n"
    "  cat rows.pbr | linlearn predict --model m.tar.gz --accept text/csv - -\n";

enum { P_MODEL = O_TOOL_LAST, P_CT, P_ACCEPT, P_BATCH, P_THREADS };

static const struct option LONGOPTS[] = {
    {"model", required_argument, 0, P_MODEL},
    {"content-type", required_argument, 0, P_CT},
    {"accept", required_argument, 0, P_ACCEPT},
    {"mini-batch-size", required_argument, 0, P_BATCH},
    {"threads", required_argument, 0, P_THREADS},
    {"label-column", required_argument, 0, O_LABEL_COL},
    {"header", no_argument, 0, O_HEADER},
    {"delimiter", required_argument, 0, O_DELIM},
    {"recordio-split", required_argument, 0, O_SPLIT},
    {"max-record-bytes", required_argument, 0, O_MAXREC},
    {"progress", no_argument, 0, O_PROGRESS_ON},
    {"no-progress", no_argument, 0, O_PROGRESS_OFF},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

int cmd_predict(int argc, char **argv)
{
    ll_predict_opts o;
    ll_predict_opts_init(&o);
    const char *model = NULL;
    int c, prog = -1;
    unsigned long threads = 0;
    optind = 1;
    while ((c = tool_getopt(argc, argv, "h", LONGOPTS)) != -1) {
        int r = tool_parse_input_opt("predict", c, optarg, &o.in);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        char *end;
        unsigned long v;
        switch (c) {
        case 'h':
            fputs(HELP, stdout);
            return 0;
        case P_MODEL:
            model = optarg;
            break;
        case P_CT:
            o.content_type = optarg;
            break;
        case P_ACCEPT:
            o.accept = optarg;
            break;
        case P_BATCH:
            v = strtoul(optarg, &end, 10);
            if (*end || !v || v > 10000000 || optarg[0] == '-')
                return tool_usage_error("predict", "--mini-batch-size takes 1 to 1e7");
            o.batch_rows = (size_t)v;
            break;
        case P_THREADS:
            v = strtoul(optarg, &end, 10);
            if (*end || !v || v > 1024 || optarg[0] == '-')
                return tool_usage_error("predict", "--threads takes 1 to 1024");
            ll_blas_set_threads((int)v);
            threads = v;
            break;
        case O_PROGRESS_ON:
        case O_PROGRESS_OFF:
            prog = c == O_PROGRESS_ON;
            break;
        default:
            return tool_bad_option("predict", argv, LONGOPTS);
        }
    }
    if (!model)
        return tool_usage_error("predict", "--model is required");
    tool_parse_threads(&o.in, threads);
    if (argc - optind != 2)
        return tool_usage_error("predict", "expected IN and OUT");
    ll_err err;
    ll_model *m = NULL;
    if (ll_model_load(model, &m, &err) != LL_OK)
        return tool_fail("predict", &err);
    uint64_t n = 0;
    tool_progress pr;
    tool_progress_init(&pr, "predict", argv[optind], prog);
    o.tick = tool_progress_tick;
    o.tick_ud = &pr;
    ll_code rc = ll_predict(m, argv[optind], argv[optind + 1], &o, &n, &err);
    tool_progress_done(&pr);
    ll_model_free(m);
    if (rc != LL_OK)
        return tool_fail("predict", &err);
    char shown[2048];
    if (strcmp(argv[optind + 1], "-") != 0)
        fprintf(stderr, "linlearn predict: %llu rows scored into %s\n", (unsigned long long)n,
                ll_redact(argv[optind + 1], shown, sizeof shown));
    return 0;
}
