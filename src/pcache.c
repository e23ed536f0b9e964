/* SPDX-License-Identifier: Apache-2.0 */
/* pcache.c - a pass of decoded batches kept in memory (pcache.h). */
#include "pcache.h"
#include "mem.h"
#include <string.h>
#include <unistd.h>

#define PCACHE_CHUNK ((size_t)32 << 20) /* huge pages: few faults when a chunk is first used */
#define PCACHE_ALIGN ((size_t)64)
#define PCACHE_MAX_DEFAULT ((size_t)2 << 30)

void pcache_init(pcache *c)
{
    memset(c, 0, sizeof *c);
}

/* Returns the spare chunk (NULL: none) and forgets it, its helper stopped and joined first. */
static uint8_t *take_spare(pcache *c)
{
    mem_prefault_end(c->spare_pf);
    c->spare_pf = NULL;
    uint8_t *m = c->spare;
    c->spare = NULL;
    return m;
}

/* A spare chunk whose pages a helper thread touches now; nothing when memory or a thread is
 * not to be had (the next chunk is then allocated when needed, as without a spare). */
static void start_spare(pcache *c)
{
    c->spare = mem_alloc_big(PCACHE_CHUNK + PCACHE_ALIGN);
    if (c->spare && (c->spare_pf = mem_prefault_start(c->spare, PCACHE_CHUNK + PCACHE_ALIGN, 1)))
        return;
    mem_free(c->spare); /* without a helper the spare would only delay the faults: not kept */
    c->spare = NULL;
}

void pcache_seal(pcache *c)
{
    mem_prefault_end(c->first);
    c->first = NULL;
    mem_free(take_spare(c));
}

/* An array of ones at the head of c->ones, after the link to the array before it. */
typedef struct ones_buf {
    struct ones_buf *prev;
    size_t n;
    uint8_t pad[PCACHE_ALIGN - sizeof(void *) - sizeof(size_t)];
    float v[];
} ones_buf;

/* n ones shared by the batches that keep no values (NULL: out of memory or over budget). */
static const float *ones(pcache *c, size_t n, size_t *budget)
{
    ones_buf *h = c->ones;
    if (h && h->n >= n)
        return h->v;
    size_t m = h && 2 * h->n > n ? 2 * h->n : n, len = sizeof *h + m * sizeof(float);
    if (budget && *budget < len)
        return NULL;
    ones_buf *o = mem_alloc_aligned(len);
    if (!o)
        return NULL;
    o->prev = h;
    o->n = m;
    for (size_t i = 0; i < m; i++)
        o->v[i] = 1.0f;
    c->ones = o;
    c->bytes += len;
    if (budget)
        *budget -= len;
    return o->v;
}

/* Whether the n values are all 1 (a large batch's worth: not worth it for a few). */
static int all_ones(const float *v, size_t n)
{
    if (n < 256)
        return 0;
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= v[i] == 1.0f;
    return ok;
}

void pcache_clear(pcache *c, size_t *budget)
{
    pcache_seal(c);
    for (ones_buf *o = c->ones, *p; o; o = p) {
        p = o->prev;
        mem_free(o);
    }
    for (size_t i = 0; i < c->n_chunk; i++)
        mem_free(c->chunk[i]);
    mem_free(c->chunk);
    mem_free(c->chunk_len);
    mem_free(c->v);
    if (budget)
        *budget += c->bytes;
    pcache_init(c);
}

size_t pcache_default_budget(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psz <= 0)
        return (size_t)256 << 20;
    unsigned long long q = (unsigned long long)pages * (unsigned long long)psz / 4;
    return q < PCACHE_MAX_DEFAULT ? (size_t)q : PCACHE_MAX_DEFAULT;
}

static size_t up(size_t n)
{
    return (n + PCACHE_ALIGN - 1) & ~(PCACHE_ALIGN - 1);
}

/* Room for need bytes at the end of the last chunk, or in a new chunk; NULL when over budget
 * or out of memory. */
static uint8_t *room(pcache *c, size_t need, size_t *budget)
{
    if (c->n_chunk && c->chunk_len[c->n_chunk - 1] - c->used >= need) {
        size_t len = c->chunk_len[c->n_chunk - 1];
        uint8_t *p = c->chunk[c->n_chunk - 1] + c->used;
        c->used += need;
        /* past half of a full-size chunk: the pass is likely to need the next one (a pass
         * smaller than that starts no helper) */
        if (!c->spare && len == PCACHE_CHUNK + PCACHE_ALIGN && c->used > len / 2 &&
            (!budget || *budget >= PCACHE_CHUNK)) {
            mem_prefault_end(c->first); /* done by now: it outruns the copies */
            c->first = NULL;
            start_spare(c);
        }
        return p;
    }
    size_t left = budget ? *budget : (size_t)-1;
    if (need > left)
        return NULL;
    size_t len = PCACHE_CHUNK < left ? PCACHE_CHUNK : left;
    if (len < need)
        len = need;
    if (c->n_chunk == c->cap_chunk) {
        size_t nc = c->cap_chunk ? 2 * c->cap_chunk : 16;
        uint8_t **q = mem_realloc_array(c->chunk, nc, sizeof *q);
        if (!q)
            return NULL;
        c->chunk = q;
        size_t *ql = mem_realloc_array(c->chunk_len, nc, sizeof *ql);
        if (!ql)
            return NULL;
        c->chunk_len = ql;
        c->cap_chunk = nc;
    }
    /* 64 bytes of slack so the first array can start on a 64-byte boundary; a chunk of the
     * usual size comes from the spare (started when the last one was half full) */
    uint8_t *m = take_spare(c);
    if (m && len != PCACHE_CHUNK) {
        mem_free(m);
        m = NULL;
    }
    int fresh = !m;
    if (!m)
        m = mem_alloc_big(len + PCACHE_ALIGN);
    if (!m)
        return NULL;
    /* the first full-size chunk: a helper touches its pages ahead of the copies (later ones
     * come from the spare, touched while the one before filled) */
    if (fresh && len == PCACHE_CHUNK && c->n_chunk == 0)
        c->first = mem_prefault_start(m, len + PCACHE_ALIGN, 0);
    c->chunk[c->n_chunk] = m;
    c->chunk_len[c->n_chunk] = len + PCACHE_ALIGN;
    c->n_chunk++;
    c->bytes += len;
    if (budget)
        *budget -= len;
    /* every part is a multiple of 64 bytes long, so what follows stays aligned too */
    size_t a = (size_t)(-(uintptr_t)m & (PCACHE_ALIGN - 1));
    c->used = a + need;
    return m + a;
}

/* Copies n bytes of src (may be NULL: then NULL) to *at and moves *at on. */
static void *put(uint8_t **at, const void *src, size_t n)
{
    if (!src)
        return NULL;
    void *d = *at;
    if (n)
        memcpy(d, src, n);
    *at += up(n);
    return d;
}

int pcache_add(pcache *c, const ll_batch *b, const float *y, size_t *budget)
{
    size_t n = b->n_rows, nval = b->off[n], nlab = b->loff[n];
    int sp = b->n_sparse > 0 && b->idx;
    const float *one = all_ones(b->val, nval) ? ones(c, nval, budget) : NULL;
    size_t need = (one ? 0 : up(nval * sizeof(float))) + (sp ? up(nval * sizeof(uint32_t)) : 0) +
                  up((n + 1) * sizeof(size_t)) * 2 + up(n * sizeof(uint64_t)) + up(n) +
                  up(nlab * sizeof(float)) + up(n * sizeof(float)) * 2 +
                  (b->src_line ? up(n * sizeof(uint64_t)) : 0) +
                  (b->src_off ? up(n * sizeof(uint64_t)) : 0);
    if (c->n == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 256;
        pcache_batch *q = mem_realloc_array(c->v, nc, sizeof *q);
        if (!q) {
            pcache_clear(c, budget);
            return 0;
        }
        c->v = q;
        c->cap = nc;
    }
    uint8_t *at = room(c, need, budget);
    if (!at) {
        pcache_clear(c, budget);
        return 0;
    }
    pcache_batch *k = &c->v[c->n];
    memset(k, 0, sizeof *k);
    ll_batch *d = &k->b;
    d->n_rows = n;
    d->val = one ? (float *)one : put(&at, b->val, nval * sizeof(float));
    d->idx = sp ? put(&at, b->idx, nval * sizeof(uint32_t)) : NULL;
    d->off = put(&at, b->off, (n + 1) * sizeof(size_t));
    d->dim = put(&at, b->dim, n * sizeof(uint64_t));
    d->sparse = put(&at, b->sparse, n);
    d->label = put(&at, b->label, nlab * sizeof(float));
    d->loff = put(&at, b->loff, (n + 1) * sizeof(size_t));
    d->weight = put(&at, b->weight, n * sizeof(float));
    k->y = put(&at, y, n * sizeof(float));
    d->src_line = put(&at, b->src_line, n * sizeof(uint64_t));
    d->src_off = put(&at, b->src_off, n * sizeof(uint64_t));
    d->dense = b->dense;
    d->width = b->width;
    d->n_sparse = b->n_sparse;
    c->n++;
    c->rows += n;
    return 1;
}
