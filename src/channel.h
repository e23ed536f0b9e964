/* SPDX-License-Identifier: Apache-2.0 */
/*
 * channel.h - a training channel read pass by pass. File mode re-opens the same source for every
 * pass (ll_reader_open: paths, and whatever schemes it supports); Pipe mode opens the FIFO
 * "<src>_<n>" for pass n (SageMaker's naming), waiting for it to appear, each index once.
 */
#ifndef LL_CHAN_H
#define LL_CHAN_H
#include "linlearn.h"
#include <pthread.h>

/* Batches parsed ahead by a channel's prefetch thread. */
#define CHAN_RING 3

typedef struct chan {
    const char *name; /* "train", "validation", "test" */
    char *src;
    ll_parse_opts po;
    int pipe;
    unsigned timeout_ms;
    unsigned next; /* next pass index */
    ll_reader *rd;
    ll_parser *p;
    uint64_t rows; /* rows delivered in the current pass */
    /* prefetch: a thread parses the pass ahead into a ring of batches, so parsing overlaps
     * training; the consumer swaps batches with the ring (no copies). */
    pthread_t th;
    int running, stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    ll_batch ring[CHAN_RING];
    int full[CHAN_RING], last[CHAN_RING]; /* slot holds a batch; it ends the pass */
    ll_code rc[CHAN_RING];
    ll_err perr;
    unsigned head, tail; /* next slot to consume / to fill */
    size_t max_rows;
    int gzip;                 /* CompressionType Gzip: each pass must be gzip; after channel_init */
    const volatile int *halt; /* non-zero: stop waiting for a FIFO (LL_E_STATE) */
    uint32_t shard_index, shard_count; /* across hosts: this host's objects (ShardedByS3Key) */
} chan;

ll_code channel_init(chan *c, const char *name, const char *src, const ll_parse_opts *po, int pipe,
                     unsigned timeout_ms, ll_err *err);
/* Closes the current pass (if any) and opens the next one. */
ll_code channel_open_pass(chan *c, ll_err *err);
/* The next batch of the current pass (see ll_parser_next; b's memory is exchanged with the
 * prefetch ring). An error is delivered after the batches parsed before it. */
ll_code channel_next(chan *c, ll_batch *b, size_t max_rows, int *eof, ll_err *err);
void channel_close_pass(chan *c);
/* The number of objects (files, S3 objects) behind a File-mode source: 1 for a plain file. */
ll_code channel_count_objects(const char *src, uint64_t *n, ll_err *err);
void channel_deinit(chan *c);
/* Whether s is a valid channel name: [A-Za-z0-9._-]{1,64} (SageMaker channels, Pipe-mode
 * FIFOs, local-job names). */
int channel_name_ok(const char *s);
#endif
