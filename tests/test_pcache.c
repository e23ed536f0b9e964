/* SPDX-License-Identifier: Apache-2.0 */
/* test_pcache.c - passes kept in memory (pcache.c): a kept batch holds exactly the values,
 * indices, offsets, dimensions, labels, weights, source places and converted labels of the
 * batch it copies, every array 64-byte aligned; values that are all 1 are shared, not copied; the
 * budget is charged and given back; a batch over the budget empties the cache and returns its
 * bytes. Replays inside training are compared with reading passes in tests/cli/pass_cache.sh. */
#include "batch.h"
#include "pcache.h"
#include "tt.h"
#include <stdint.h>
#include <string.h>

/* A batch of n rows, dense of width w or sparse (every third row) of dim 1000. */
static void fill(ll_batch *b, size_t n, size_t w, int sparse, unsigned seed, float *y)
{
    ll_err err;
    ll_batch_clear(b);
    for (size_t i = 0; i < n; i++) {
        float v[64], lab[2] = {(float)(i % 2), (float)seed};
        uint32_t ix[64];
        for (size_t j = 0; j < w; j++) {
            v[j] = (float)(seed * 1000 + i * 10 + j) * 0.5f;
            ix[j] = (uint32_t)(j * 7 + i % 5);
        }
        int sp = sparse && i % 3 == 0;
        CHECK_OK(ll_batch_add_row(b, v, sp ? ix : NULL, sp ? w / 2 : w, sp ? 1000 : w, lab,
                                  i % 4 == 0 ? 2 : 1, &err));
        b->weight[i] = 1.0f + (float)i;
        if (b->src_line)
            b->src_line[i] = 100 + i;
        if (b->src_off)
            b->src_off[i] = 5000 + 7 * i;
        y[i] = (float)(i % 3);
    }
}

static int aligned(const void *p)
{
    return p == NULL || ((uintptr_t)p & 63) == 0;
}

static void same(const pcache_batch *k, const ll_batch *b, const float *y)
{
    const ll_batch *d = &k->b;
    size_t n = b->n_rows;
    CHECK(d->n_rows == n && d->dense == b->dense && d->width == b->width &&
          d->n_sparse == b->n_sparse);
    CHECK(memcmp(d->off, b->off, (n + 1) * sizeof *d->off) == 0);
    CHECK(memcmp(d->loff, b->loff, (n + 1) * sizeof *d->loff) == 0);
    CHECK(memcmp(d->val, b->val, b->off[n] * sizeof *d->val) == 0);
    if (b->n_sparse) { /* the indices of sparse rows (a dense row's are not written) */
        CHECK(d->idx != NULL);
        for (size_t i = 0; d->idx && i < n; i++)
            if (b->sparse[i])
                CHECK(memcmp(d->idx + b->off[i], b->idx + b->off[i],
                             (b->off[i + 1] - b->off[i]) * sizeof *d->idx) == 0);
    } else
        CHECK(d->idx == NULL);
    CHECK(memcmp(d->dim, b->dim, n * sizeof *d->dim) == 0);
    CHECK(memcmp(d->sparse, b->sparse, n) == 0);
    CHECK(memcmp(d->label, b->label, b->loff[n] * sizeof *d->label) == 0);
    CHECK(memcmp(d->weight, b->weight, n * sizeof *d->weight) == 0);
    CHECK(memcmp(k->y, y, n * sizeof *y) == 0);
    CHECK(memcmp(d->src_line, b->src_line, n * sizeof *d->src_line) == 0);
    CHECK(memcmp(d->src_off, b->src_off, n * sizeof *d->src_off) == 0);
    CHECK(aligned(d->val) && aligned(d->idx) && aligned(d->off) && aligned(d->dim) &&
          aligned(d->label) && aligned(d->weight) && aligned(k->y));
}

static void copies_are_exact(void)
{
    ll_batch b;
    ll_batch_init(&b);
    pcache c;
    pcache_init(&c);
    size_t budget = (size_t)256 << 20, start = budget;
    float y[300];
    for (unsigned s = 0; s < 40; s++) {
        fill(&b, 1 + s * 7 % 300, 1 + s % 60, s % 2, s, y);
        CHECKF(pcache_add(&c, &b, y, &budget), "batch %u", s);
    }
    CHECK(c.n == 40);
    CHECK(budget < start && start - budget == c.bytes);
    uint64_t rows = 0;
    for (unsigned s = 0; s < 40; s++) { /* the batch is refilled each time: compare again */
        fill(&b, 1 + s * 7 % 300, 1 + s % 60, s % 2, s, y);
        same(&c.v[s], &b, y);
        rows += b.n_rows;
    }
    CHECK(c.rows == rows);
    pcache_clear(&c, &budget);
    CHECK(budget == start && c.n == 0 && c.bytes == 0);
    ll_batch_deinit(&b);
}

static void over_budget_empties(void)
{
    ll_batch b;
    ll_batch_init(&b);
    pcache c;
    pcache_init(&c);
    float y[300];
    size_t budget = 200000, start = budget; /* room for a few batches of 300 x 60 floats */
    fill(&b, 300, 60, 0, 1, y);
    size_t kept = 0;
    while (pcache_add(&c, &b, y, &budget))
        kept++;
    CHECKF(kept >= 1 && kept < 10, "kept %zu batches in 200 kB", kept);
    CHECK(c.n == 0 && c.bytes == 0 && c.v == NULL && budget == start);
    size_t none = 0;
    CHECK(!pcache_add(&c, &b, y, &none) && c.n == 0);
    ll_batch_deinit(&b);
}

/* Batch s of the one-hot test: rows of three values, all val. */
static void onehot(ll_batch *b, size_t n, int s, float val, float *y)
{
    ll_err err;
    ll_batch_clear(b);
    for (size_t i = 0; i < n; i++) {
        float v[3] = {val, val, val}, lab = (float)(i % 2);
        uint32_t ix[3] = {(uint32_t)i % 97, 100 + (uint32_t)s, 200 + (uint32_t)i % 5};
        CHECK_OK(ll_batch_add_row(b, v, ix, 3, 1000, &lab, 1, &err));
        y[i] = lab;
    }
}

/* Batches of one-hot rows (every value 1) share one array of ones: they replay exactly, the
 * arrays of earlier batches stay valid when a larger batch needs a longer one, and the chunk
 * holds no values for them. */
static void ones_are_shared(void)
{
    ll_batch b;
    ll_batch_init(&b);
    pcache c, c2;
    pcache_init(&c);
    pcache_init(&c2);
    size_t budget = (size_t)256 << 20, start = budget;
    float y[2000];
    size_t sizes[] = {300, 1200, 700, 2000};
    size_t nnz = 0;
    for (int s = 0; s < 4; s++) {
        onehot(&b, sizes[s], s, 2.0f, y); /* the same shapes with values of 2: copied */
        CHECK(pcache_add(&c2, &b, y, &budget));
        onehot(&b, sizes[s], s, 1.0f, y);
        nnz += b.off[b.n_rows];
        CHECK(pcache_add(&c, &b, y, &budget));
        same(&c.v[s], &b, y);
    }
    for (int s = 0; s < 4; s++) { /* every kept batch still reads ones */
        onehot(&b, sizes[s], s, 1.0f, y);
        same(&c.v[s], &b, y);
    }
    CHECK(c.v[0].b.val != c.v[3].b.val); /* the longer array came later */
    CHECK(c.n_chunk == 1 && c2.n_chunk == 1);
    CHECKF(c.used + nnz * sizeof(float) <= c2.used + 4 * 64, "%zu + %zu values > %zu", c.used, nnz,
           c2.used);
    /* one value that is not 1: that batch is copied as it is */
    b.val[5] = 2.0f;
    CHECK(pcache_add(&c, &b, y, &budget));
    same(&c.v[4], &b, y);
    CHECK(c.v[4].b.val[5] == 2.0f);
    pcache_clear(&c, &budget);
    pcache_clear(&c2, &budget);
    CHECK(budget == start);
    ll_batch_deinit(&b);
}

int main(void)
{
    TT_BEGIN("test_pcache");
    RUN(ones_are_shared);
    RUN(copies_are_exact);
    RUN(over_budget_empties);
    TT_END();
}
