/* SPDX-License-Identifier: Apache-2.0 */
/* cmd_pipe.c - `linlearn pipe`: SageMaker Pipe mode on one machine. Streams channels into
 * DIR/<channel>_<epoch> FIFOs (ll_pipe_run), or in File mode copies them into DIR/<channel>/. */
#include "tool.h"
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *HELP =
    "usage: linlearn pipe --channel NAME=SRC [--channel NAME=SRC ...] [options]\n"
    "\n"
    "Pipe mode as SageMaker lays it out: creates the FIFOs DIR/<NAME>_<epoch> (epoch from 0)\n"
    "and streams each epoch of every channel into them, one writer per channel; the next\n"
    "epoch's FIFO is opened once the reader has finished the previous one, as SageMaker does,\n"
    "so a channel is served as many passes as its reader asks for. Exits when no reader asks\n"
    "for a channel's next pass within --reader-timeout-ms, or after --epochs passes; removes\n"
    "its FIFOs on SIGINT/SIGTERM. Any program can read the FIFOs.\n"
    "SRC is any source: a file, folder, glob, http(s):// URL, s3://bucket/key,\n"
    "s3://bucket/prefix/ or a .manifest file (docs/SOURCES.md).\n"
    "\n"
    "  --channel NAME=SRC       a channel (repeat for several)\n"
    "  --epochs N               at most N passes (default: as many as the reader asks for)\n"
    "  --reader-timeout-ms N    after a pass, end the channel when no reader opens the next\n"
    "                           FIFO within N ms (default 60000, as train's --pipe-timeout-ms)\n"
    "  --dir DIR                where the FIFOs go (default /opt/ml/input/data)\n"
    "  --shuffle-seed S         ShuffleConfig: a new object order each epoch from seed S\n"
    "  --shard I/N              ShardedByS3Key: this is host I of N (0-based)\n"
    "  --record-wrapper recordio|none\n"
    "                           wrap each object as one RecordIO record\n"
    "  --input-mode pipe|file   file: copy each channel into DIR/<NAME>/ and exit\n"
    "  --endpoint-url URL       S3-compatible endpoint (path-style addressing)\n"
    "  --prefetch SIZE          read-ahead buffer per channel (default 64M; 0 off)\n"
    "  --compression auto|gzip|none\n"
    "                           CompressionType: auto (default) inflates gzip data (first bytes\n"
    "                           1F 8B) before the FIFO, gzip requires it, none passes the bytes\n"
    "                           as stored (readers of the FIFO inflate gzip themselves)\n"
    "  --progress | --no-progress  the progress line on stderr: bytes fed, percent of local\n"
    "                           files, rate, ETA (default: when stderr is a terminal)\n"
    "\n"
    "Example:\n"
    "  linlearn pipe --dir /tmp/data --channel train=s3://bucket/train/ &\n"
    "  cat /tmp/data/train_0 | linlearn inspect -\n";

enum {
    O_CHANNEL = O_TOOL_LAST,
    O_EPOCHS,
    O_READER_TIMEOUT,
    O_DIR,
    O_SEED,
    O_SHARD,
    O_WRAP,
    O_MODE,
    O_ENDPOINT,
    O_PREFETCH,
    O_COMPRESSION
};

static const struct option LONGOPTS[] = {
    {"channel", required_argument, 0, O_CHANNEL},
    {"epochs", required_argument, 0, O_EPOCHS},
    {"reader-timeout-ms", required_argument, 0, O_READER_TIMEOUT},
    {"dir", required_argument, 0, O_DIR},
    {"shuffle-seed", required_argument, 0, O_SEED},
    {"shard", required_argument, 0, O_SHARD},
    {"record-wrapper", required_argument, 0, O_WRAP},
    {"input-mode", required_argument, 0, O_MODE},
    {"endpoint-url", required_argument, 0, O_ENDPOINT},
    {"prefetch", required_argument, 0, O_PREFETCH},
    {"compression", required_argument, 0, O_COMPRESSION},
    {"progress", no_argument, 0, O_PROGRESS_ON},
    {"no-progress", no_argument, 0, O_PROGRESS_OFF},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

static volatile int *g_stop; /* the signal that asked to stop (tool_stop_on_signals) */

/* The progress line of a Pipe-mode run: the bytes the channels' threads have fed, sampled
 * five times a second. */
typedef struct pipe_watch {
    tool_progress pr;
    uint64_t fed;
    int done;
} pipe_watch;

static void *watch_main(void *arg)
{
    pipe_watch *w = arg;
    struct timespec ts = {0, 200 * 1000 * 1000};
    while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
        tool_progress_tick(&w->pr, __atomic_load_n(&w->fed, __ATOMIC_RELAXED), 0);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int cmd_pipe(int argc, char **argv)
{
    ll_source_opts o;
    ll_source_opts_init(&o);
    ll_pipe_channel ch[64];
    size_t n_ch = 0;
    uint64_t epochs = UINT64_MAX;
    o.pipe_idle_ms = 60000;
    const char *dir = "/opt/ml/input/data";
    int file_mode = 0;
    int c, prog = -1;
    char *end;
    optind = 1;
    while ((c = tool_getopt(argc, argv, "h", LONGOPTS)) != -1) {
        switch (c) {
        case 'h':
            fputs(HELP, stdout);
            return 0;
        case O_CHANNEL: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1])
                return tool_usage_error("pipe", "--channel takes NAME=SRC, not '%s'", optarg);
            if (n_ch == 64)
                return tool_usage_error("pipe", "at most 64 channels");
            *eq = 0;
            ch[n_ch].name = optarg;
            ch[n_ch].src = eq + 1;
            n_ch++;
            break;
        }
        case O_EPOCHS:
            epochs = strtoull(optarg, &end, 10);
            if (*end || !epochs || optarg[0] == '-')
                return tool_usage_error("pipe", "--epochs takes a positive count");
            break;
        case O_READER_TIMEOUT:
            o.pipe_idle_ms = strtoull(optarg, &end, 10);
            if (*end || !o.pipe_idle_ms || optarg[0] == '-')
                return tool_usage_error("pipe", "--reader-timeout-ms takes a positive count");
            break;
        case O_DIR:
            dir = optarg;
            break;
        case O_SEED:
            o.shuffle = 1;
            o.shuffle_seed = strtoull(optarg, &end, 10);
            if (*end || optarg[0] == '-')
                return tool_usage_error("pipe", "--shuffle-seed takes a number");
            break;
        case O_SHARD: {
            unsigned i, n;
            char extra;
            if (sscanf(optarg, "%u/%u%c", &i, &n, &extra) != 2 || n == 0 || i >= n)
                return tool_usage_error("pipe", "--shard takes I/N with 0 <= I < N");
            o.shard_index = i;
            o.shard_count = n;
            break;
        }
        case O_WRAP:
            if (!strcmp(optarg, "recordio") || !strcmp(optarg, "RecordIO"))
                o.record_wrap = 1;
            else if (!strcmp(optarg, "none") || !strcmp(optarg, "None"))
                o.record_wrap = 0;
            else
                return tool_usage_error("pipe", "--record-wrapper takes recordio or none");
            break;
        case O_MODE:
            if (!strcasecmp(optarg, "file"))
                file_mode = 1;
            else if (!strcasecmp(optarg, "pipe"))
                file_mode = 0;
            else
                return tool_usage_error("pipe", "--input-mode takes pipe or file");
            break;
        case O_ENDPOINT:
            o.endpoint_url = optarg;
            break;
        case O_PREFETCH:
            o.prefetch_bytes = strcmp(optarg, "0") ? (size_t)tool_parse_size(optarg) : 0;
            if (strcmp(optarg, "0") && !o.prefetch_bytes)
                return tool_usage_error("pipe", "--prefetch takes a size such as 64M, or 0");
            break;
        case O_COMPRESSION:
            if (!strcasecmp(optarg, "auto"))
                o.compression = LL_COMPRESSION_AUTO;
            else if (!strcasecmp(optarg, "gzip"))
                o.compression = LL_COMPRESSION_GZIP;
            else if (!strcasecmp(optarg, "none"))
                o.compression = LL_COMPRESSION_NONE;
            else
                return tool_usage_error("pipe", "--compression takes auto, gzip or none");
            break;
        case O_PROGRESS_ON:
        case O_PROGRESS_OFF:
            prog = c == O_PROGRESS_ON;
            break;
        default:
            return tool_bad_option("pipe", argv, LONGOPTS);
        }
    }
    if (optind != argc)
        return tool_usage_error("pipe", "unexpected argument '%s'", argv[optind]);
    if (!n_ch)
        return tool_usage_error("pipe", "give at least one --channel NAME=SRC");
    ll_err err;
    if (file_mode) {
        for (size_t i = 0; i < n_ch; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, ch[i].name);
            uint64_t nf = 0, nb = 0;
            if (ll_source_download(ch[i].src, &o, path, &nf, &nb, &err) != LL_OK)
                return tool_fail("pipe", &err);
            fprintf(stderr, "linlearn pipe: %s: %llu files, %llu bytes in %s\n", ch[i].name,
                    (unsigned long long)nf, (unsigned long long)nb, path);
        }
        return 0;
    }
    g_stop = tool_stop_on_signals();
    signal(SIGPIPE, SIG_IGN);
    pipe_watch pw;
    memset(&pw, 0, sizeof pw);
    tool_progress_init(&pw.pr, "pipe", NULL, prog);
    pw.pr.bytes_only = 1;
    struct stat st;
    for (size_t i = 0; i < n_ch; i++) /* local files: the total is known */
        if (!strstr(ch[i].src, "://") && stat(ch[i].src, &st) == 0 && S_ISREG(st.st_mode))
            pw.pr.total += (uint64_t)st.st_size * epochs;
        else {
            pw.pr.total = 0;
            break;
        }
    pthread_t th;
    int watching = pw.pr.on && pthread_create(&th, NULL, watch_main, &pw) == 0;
    ll_code rc = ll_pipe_run_counted(dir, ch, n_ch, epochs, &o, g_stop, &pw.fed, &err);
    if (watching) {
        __atomic_store_n(&pw.done, 1, __ATOMIC_RELEASE);
        pthread_join(th, NULL);
    }
    tool_progress_done(&pw.pr);
    if (rc != LL_OK)
        return tool_fail("pipe", &err);
    return tool_stop_signal() ? 130 : 0;
}
