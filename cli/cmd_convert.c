/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_convert.c - `linlearn convert`: any supported format to any other, streaming. */
#include "tool.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *HELP =
    "usage: linlearn convert [options] IN OUT\n"
    "\n"
    "Converts between CSV, LIBSVM, JSON Lines and RecordIO-protobuf (SageMaker's\n"
    "application/x-recordio-protobuf, byte-compatible with the SageMaker Python SDK).\n"
    "IN and OUT are paths, or - for standard input/output; IN may also be a folder, a\n"
    "glob, http(s)://URL, s3://bucket/key, s3://bucket/prefix/ or a .manifest, and OUT\n"
    "s3://bucket/key or, with --shard-*, s3://bucket/prefix/ (docs/SOURCES.md).\n"
    "Formats come from the extensions (.csv .tsv .libsvm .svm .jsonl .pbr .recordio)\n"
    "or the options below; an input of unknown extension is recognised from its first\n"
    "bytes.\n"
    "\n"
    "  --from FMT             input format: csv, libsvm, recordio, jsonl\n"
    "  --to FMT               output format: csv, libsvm, recordio, jsonl\n"
    "  --label-column N       CSV: 0-based column holding the label (default 0)\n"
    "  --no-label             CSV: no label column (inference data); output: drop labels\n"
    "  --header               CSV: skip one header line\n"
    "  --delimiter C          CSV: ',' (default), 'tab' or another single character\n"
    "  --index-base 0|1       LIBSVM: index of the first column (default 1), in and out\n"
    "  --feature-dim D        sparse shape (and width of dense output of sparse rows)\n"
    "  --dense | --sparse     RecordIO/JSON Lines rows (default: as the input rows are)\n"
    "  --recordio-split auto|dmlc|concat\n"
    "                         how split RecordIO records are reassembled: dmlc-core's way\n"
    "                         (magic re-inserted), plain fragments (Amazon's ML-IO), or auto\n"
    "                         (default): whichever yields a valid Record\n"
    "  --max-record-bytes N   longest record or line accepted (default 64M)\n"
    "  --endpoint-url URL     S3-compatible endpoint for s3:// (else AWS_ENDPOINT_URL...)\n"
    "  --shard-records N      OUT is a folder/prefix: a new part-NNNNN every N records\n"
    "  --shard-bytes SIZE     ... or once a part reaches SIZE bytes (e.g. 64M)\n"
    "  --batch-rows N         rows per internal batch (default 4096)\n"
    "  --threads N            threads parsing CSV/LIBSVM input (default: one per core;\n"
    "                         1: one thread); the output is the same bytes for every N\n"
    "  --progress | --no-progress  the progress line on stderr (default: when stderr is a\n"
    "                         terminal)\n"
    "\n"
    "Examples:\n"
    "  linlearn convert train.csv train.pbr\n"
    "  linlearn convert --from libsvm --index-base 0 --feature-dim 10000 data.txt data.pbr\n"
    "  linlearn convert train.pbr - --to jsonl | head\n"
    "  cat big.csv | linlearn convert --from csv --to recordio - - > big.pbr\n"
    "  linlearn convert --shard-bytes 64M big.csv shards/\n";

enum { O_SHARD_REC = O_TOOL_LAST, O_SHARD_BYTES, O_BATCH, O_THREADS };

static const struct option LONGOPTS[] = {
    {"from", required_argument, 0, O_FROM},
    {"to", required_argument, 0, O_TO},
    {"label-column", required_argument, 0, O_LABEL_COL},
    {"no-label", no_argument, 0, O_NO_LABEL},
    {"header", no_argument, 0, O_HEADER},
    {"delimiter", required_argument, 0, O_DELIM},
    {"index-base", required_argument, 0, O_INDEX_BASE},
    {"feature-dim", required_argument, 0, O_DIM},
    {"dense", no_argument, 0, O_DENSE},
    {"sparse", no_argument, 0, O_SPARSE},
    {"recordio-split", required_argument, 0, O_SPLIT},
    {"max-record-bytes", required_argument, 0, O_MAXREC},
    {"endpoint-url", required_argument, 0, O_ENDPOINT_URL},
    {"shard-records", required_argument, 0, O_SHARD_REC},
    {"shard-bytes", required_argument, 0, O_SHARD_BYTES},
    {"batch-rows", required_argument, 0, O_BATCH},
    {"threads", required_argument, 0, O_THREADS},
    {"progress", no_argument, 0, O_PROGRESS_ON},
    {"no-progress", no_argument, 0, O_PROGRESS_OFF},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    unsigned long long x = strtoull(s, &end, 10);
    if (!*s || *end || s[0] == '-')
        return 0;
    *v = x;
    return 1;
}

/* Source settings from --endpoint-url, handed to the library through the options. */
static ll_source_opts g_source;
static int g_source_set;

const ll_source_opts *tool_source_opts(void)
{
    return g_source_set ? &g_source : NULL;
}

void tool_parse_threads(ll_parse_opts *in, uint64_t n)
{
    in->threads = n;
    const char *cb = getenv("LL_PARSE_CHUNK_BYTES");
    uint64_t v;
    if (cb && parse_u64(cb, &v) && v)
        in->chunk_bytes = v;
}

int tool_parse_input_opt(const char *cmd, int opt, const char *arg, ll_parse_opts *in)
{
    uint64_t v;
    switch (opt) {
    case O_FROM:
        in->format = ll_format_from_name(arg);
        if (in->format == LL_FMT_AUTO) {
            tool_usage_error(cmd, "unknown input format '%s' (csv, libsvm, recordio, jsonl)", arg);
            return -1;
        }
        return 1;
    case O_LABEL_COL:
        if (!parse_u64(arg, &v) || v > 1000000) {
            tool_usage_error(cmd, "--label-column takes a column number from 0, not '%s'", arg);
            return -1;
        }
        in->label_column = (int)v;
        return 1;
    case O_NO_LABEL:
        in->label_column = -1;
        return 1;
    case O_HEADER:
        in->header = 1;
        return 1;
    case O_DELIM:
        if (!strcmp(arg, "tab") || !strcmp(arg, "\\t"))
            in->delimiter = '\t';
        else if (strlen(arg) == 1)
            in->delimiter = arg[0];
        else {
            tool_usage_error(cmd, "--delimiter takes one character or 'tab', not '%s'", arg);
            return -1;
        }
        return 1;
    case O_INDEX_BASE:
        if (strcmp(arg, "0") && strcmp(arg, "1")) {
            tool_usage_error(cmd, "--index-base takes 0 or 1, not '%s'", arg);
            return -1;
        }
        in->index_base = arg[0] - '0';
        return 1;
    case O_DIM:
        if (!parse_u64(arg, &v) || v == 0) {
            tool_usage_error(cmd, "--feature-dim takes a positive integer, not '%s'", arg);
            return -1;
        }
        in->feature_dim = v;
        return 1;
    case O_SPLIT:
        if (!strcmp(arg, "auto"))
            in->split = LL_SPLIT_AUTO;
        else if (!strcmp(arg, "dmlc"))
            in->split = LL_SPLIT_DMLC;
        else if (!strcmp(arg, "concat"))
            in->split = LL_SPLIT_CONCAT;
        else {
            tool_usage_error(cmd, "--recordio-split takes auto, dmlc or concat, not '%s'", arg);
            return -1;
        }
        return 1;
    case O_ENDPOINT_URL:
        ll_source_opts_init(&g_source);
        g_source.endpoint_url = arg;
        g_source_set = 1;
        return 1;
    case O_MAXREC:
        v = tool_parse_size(arg);
        if (!v) {
            tool_usage_error(cmd, "--max-record-bytes takes a size such as 64M, not '%s'", arg);
            return -1;
        }
        in->max_record_len = (size_t)v;
        return 1;
    }
    return 0;
}

int cmd_convert(int argc, char **argv)
{
    ll_convert_opts o;
    ll_convert_opts_init(&o);
    int c, prog = -1;
    uint64_t threads = 0;
    optind = 1;
    while ((c = tool_getopt(argc, argv, "h", LONGOPTS)) != -1) {
        int r = tool_parse_input_opt("convert", c, optarg, &o.in);
        if (r < 0)
            return 2;
        if (r > 0)
            continue;
        uint64_t v;
        switch (c) {
        case 'h':
            fputs(HELP, stdout);
            return 0;
        case O_TO:
            o.out.format = ll_format_from_name(optarg);
            if (o.out.format == LL_FMT_AUTO)
                return tool_usage_error("convert", "unknown output format '%s'", optarg);
            break;
        case O_DENSE:
            o.out.layout = LL_LAYOUT_DENSE;
            break;
        case O_SPARSE:
            o.out.layout = LL_LAYOUT_SPARSE;
            break;
        case O_SHARD_REC:
            if (!parse_u64(optarg, &o.shard_records) || !o.shard_records)
                return tool_usage_error("convert", "--shard-records takes a positive count");
            break;
        case O_SHARD_BYTES:
            o.shard_bytes = tool_parse_size(optarg);
            if (!o.shard_bytes)
                return tool_usage_error("convert", "--shard-bytes takes a size such as 64M");
            break;
        case O_BATCH:
            if (!parse_u64(optarg, &v) || !v || v > 10000000)
                return tool_usage_error("convert", "--batch-rows takes a count from 1 to 1e7");
            o.batch_rows = (size_t)v;
            break;
        case O_THREADS:
            if (!parse_u64(optarg, &threads) || threads > 1024)
                return tool_usage_error("convert", "--threads takes 0 (one per core) to 1024");
            break;
        case O_PROGRESS_ON:
        case O_PROGRESS_OFF:
            prog = c == O_PROGRESS_ON;
            break;
        default:
            return tool_bad_option("convert", argv, LONGOPTS);
        }
    }
    if (argc - optind != 2)
        return tool_usage_error("convert", "expected IN and OUT");
    const char *in = argv[optind], *outp = argv[optind + 1];
    tool_parse_threads(&o.in, threads);
    /* options that name an output property */
    if (o.in.label_column < 0)
        o.out.no_label = 1;
    o.out.index_base = o.in.index_base;
    o.out.feature_dim = o.in.feature_dim;
    if (o.in.delimiter)
        o.out.delimiter = o.in.delimiter;
    ll_err err;
    uint64_t n = 0;
    o.source = tool_source_opts();
    tool_progress pr;
    tool_progress_init(&pr, "convert", in, prog);
    o.tick = tool_progress_tick;
    o.tick_ud = &pr;
    ll_code rc = ll_convert(in, outp, &o, &n, &err);
    tool_progress_done(&pr);
    if (rc != LL_OK)
        return tool_fail("convert", &err);
    char shown[2048];
    if (strcmp(outp, "-") != 0)
        fprintf(stderr, "linlearn convert: %llu records written to %s\n", (unsigned long long)n,
                ll_redact(outp, shown, sizeof shown));
    return 0;
}
