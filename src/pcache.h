/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pcache.h - one channel's pass of decoded mini-batches kept in memory, so a later pass over
 * the same data (the next epoch in File mode, the validation pass of every epoch, model
 * selection and the final metrics after training) replays the batches instead of reading,
 * framing and decoding the source again (docs/TRAINING.md, "Passes kept in memory"). The
 * copies are exact (a batch whose values are all 1 shares one array of ones instead of a copy
 * of them): a replayed pass gives the trainer the same rows, labels, weights and batch
 * boundaries, so every result is bit for bit the one a read pass gives. Memory comes from a
 * budget shared by the channels; a pass that does not fit is dropped and read as before.
 */
#ifndef LL_PCACHE_H
#define LL_PCACHE_H
#include "linlearn.h"
#include <stddef.h>
#include <stdint.h>

/* A kept batch: a read-only ll_batch whose arrays live in the cache, and its labels as the
 * trainer converted them. */
typedef struct pcache_batch {
    ll_batch b;
    const float *y;
} pcache_batch;

typedef struct pcache {
    pcache_batch *v; /* the batches of the pass, in order */
    size_t n, cap;
    uint8_t **chunk; /* memory, in chunks of PCACHE_CHUNK bytes (or one batch's size) */
    size_t *chunk_len;
    size_t n_chunk, cap_chunk;
    size_t used;   /* bytes used of the last chunk */
    size_t bytes;  /* bytes held (counted against the budget) */
    uint64_t rows; /* rows held */
    /* the next chunk, its pages first touched by a helper thread (mem.h's mem_prefault) once
     * the last one is half full; the first chunk's are mapped by a helper as it fills (a fresh
     * page costs the kernel's zeroing, and on a VM the host's fault: off the trainer's thread,
     * that time overlaps the pass); the spare is not counted against the budget until used */
    uint8_t *spare;
    struct mem_prefault *spare_pf; /* the spare's helper, ended before the spare is used or freed */
    struct mem_prefault *first;    /* the first chunk's, ended at its half */
    /* Values that are all 1 (one-hot and other binary features) are not copied: such batches
     * share one array of ones, the newest (largest) first, each linked to the one before. */
    void *ones;
} pcache;

void pcache_init(pcache *c);
/* Frees what c holds and returns its bytes to *budget (NULL: no budget). */
void pcache_clear(pcache *c, size_t *budget);
/* Appends a copy of b (every array but its capacities) with its n_rows labels y. Returns 0 when
 * the copy would take more than *budget bytes or memory runs out: then c is cleared (its bytes
 * returned to *budget) and nothing else changes. */
int pcache_add(pcache *c, const ll_batch *b, const float *y, size_t *budget);
/* The pass is complete: the memory kept for more batches (a spare chunk) is freed. */
void pcache_seal(pcache *c);
/* The default budget: a quarter of the machine's memory, at most 2 GiB. */
size_t pcache_default_budget(void);
#endif
