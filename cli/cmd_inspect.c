/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_inspect.c - `linlearn inspect`: summary, first records, validation of any input. */
#include "tool.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *HELP =
    "usage: linlearn inspect [--head N] [--json] [--validate] [input options] IN\n"
    "\n"
    "Reads IN (any format; - for standard input) and prints the number of records, the\n"
    "feature dimensions, dense and sparse row counts, a label summary (a histogram when\n"
    "there are few distinct labels), min/mean/max of the first features and the first N\n"
    "records as text. For RecordIO-protobuf the records are shown in full: every map\n"
    "entry, its dtype, keys and shape, uid, metadata and configuration.\n"
    "\n"
    "  --head N            records to show (default 5; 0 for none)\n"
    "  --json              one JSON object instead of text\n"
    "  --validate          read everything and report only the first problem (exit 1)\n"
    "  --features N        features with statistics (default 10)\n"
    "  input options as for convert: --from, --label-column, --no-label, --header,\n"
    "  --delimiter, --index-base, --feature-dim, --recordio-split, --max-record-bytes,\n"
    "  --endpoint-url (IN may be any source of docs/SOURCES.md, e.g. s3://bucket/prefix/)\n"
    "\n"
    "Examples:\n"
    "  linlearn inspect train.pbr\n"
    "  linlearn inspect --validate --json shard.pbr\n";

enum { O_HEAD = O_TOOL_LAST, O_JSON, O_VALIDATE, O_FEATURES };

static const struct option LONGOPTS[] = {
    {"from", required_argument, 0, O_FROM},
    {"label-column", required_argument, 0, O_LABEL_COL},
    {"no-label", no_argument, 0, O_NO_LABEL},
    {"header", no_argument, 0, O_HEADER},
    {"delimiter", required_argument, 0, O_DELIM},
    {"index-base", required_argument, 0, O_INDEX_BASE},
    {"feature-dim", required_argument, 0, O_DIM},
    {"recordio-split", required_argument, 0, O_SPLIT},
    {"max-record-bytes", required_argument, 0, O_MAXREC},
    {"endpoint-url", required_argument, 0, O_ENDPOINT_URL},
    {"head", required_argument, 0, O_HEAD},
    {"json", no_argument, 0, O_JSON},
    {"validate", no_argument, 0, O_VALIDATE},
    {"features", required_argument, 0, O_FEATURES},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

int cmd_inspect(int argc, char **argv)
{
    ll_inspect_opts o;
    ll_inspect_opts_init(&o);
    int c;
    optind = 1;
    while ((c = tool_getopt(argc, argv, "h", LONGOPTS)) != -1) {
        int r = tool_parse_input_opt("inspect", c, optarg, &o.in);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        char *end;
        switch (c) {
        case 'h':
            fputs(HELP, stdout);
            return 0;
        case O_HEAD:
            o.head = strtoull(optarg, &end, 10);
            if (*end || optarg[0] == '-')
                return tool_usage_error("inspect", "--head takes a count, not '%s'", optarg);
            break;
        case O_FEATURES:
            o.n_feature_stats = (int)strtol(optarg, &end, 10);
            if (*end || o.n_feature_stats < 0 || o.n_feature_stats > 100000)
                return tool_usage_error("inspect", "--features takes a count up to 100000");
            break;
        case O_JSON:
            o.json = 1;
            break;
        case O_VALIDATE:
            o.validate = 1;
            break;
        default:
            return tool_bad_option("inspect", argv, LONGOPTS);
        }
    }
    if (argc - optind != 1)
        return tool_usage_error("inspect", "expected one input");
    ll_err err;
    ll_writer *w;
    if (ll_writer_open("-", &w, &err) != LL_OK)
        return tool_fail("inspect", &err);
    o.source = tool_source_opts();
    ll_code rc = ll_inspect(argv[optind], &o, w, &err);
    ll_err werr;
    ll_code wrc = ll_writer_commit(w, &werr);
    if (rc != LL_OK)
        return tool_fail("inspect", &err);
    if (wrc != LL_OK) /* the report did not reach its output (a full disk, a closed pipe) */
        return tool_fail("inspect", &werr);
    return 0;
}
