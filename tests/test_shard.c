/* SPDX-License-Identifier: Apache-2.0 */
/* test_shard.c - the record split of a mini-batch over hosts (shard.c): every row in exactly one
 * slice, slices in order and balanced, a sliced batch keeps its rows' values, indices, labels and
 * weights; with one host the sums and merges leave their input alone. Runs under mpirun are in
 * tests/cli/mpi.sh. */
#include "shard.h"
#include "tt.h"
#include <string.h>

static void split_covers_every_row_once(void)
{
    for (size_t rows = 0; rows < 40; rows++)
        for (int n = 1; n <= 17; n++) {
            size_t next = 0, mn = (size_t)-1, mx = 0;
            for (int r = 0; r < n; r++) {
                size_t lo, hi;
                shard_range(rows, r, n, &lo, &hi);
                CHECKF(lo == next, "rows %zu hosts %d rank %d starts at %zu", rows, n, r, lo);
                CHECK(hi >= lo);
                next = hi;
                if (hi - lo < mn)
                    mn = hi - lo;
                if (hi - lo > mx)
                    mx = hi - lo;
            }
            CHECKF(next == rows, "rows %zu hosts %d end at %zu", rows, n, next);
            CHECK(mx - mn <= 1);
        }
}

static void slice_keeps_the_rows(void)
{
    ll_batch b;
    ll_batch_init(&b);
    ll_err err;
    /* rows 0..5: even rows dense (3 values), odd rows sparse (1 value at column 2k mod 3) */
    for (int i = 0; i < 6; i++) {
        float v[3] = {(float)i, (float)i + 0.5f, (float)i + 0.25f}, lab = (float)(i % 2);
        uint32_t ix = (uint32_t)(i % 3);
        if (i % 2 == 0)
            CHECK_OK(ll_batch_add_row(&b, v, NULL, 3, 3, &lab, 1, &err));
        else
            CHECK_OK(ll_batch_add_row(&b, v, &ix, 1, 3, &lab, 1, &err));
        b.weight[i] = 1.0f + (float)i;
    }
    float y[6] = {10, 11, 12, 13, 14, 15};
    shard_slice(&b, y, 2, 5); /* rows 2 (dense), 3 (sparse), 4 (dense) */
    CHECK(b.n_rows == 3);
    CHECK(b.off[0] == 0 && b.off[1] == 3 && b.off[2] == 4 && b.off[3] == 7);
    CHECK(b.val[0] == 2.0f && b.val[3] == 3.0f && b.val[4] == 4.0f);
    CHECK(b.idx[3] == 0); /* row 3's column: 3 mod 3 */
    CHECK(b.label[0] == 0.0f && b.label[1] == 1.0f && b.label[2] == 0.0f);
    CHECK(b.weight[0] == 3.0f && b.weight[2] == 5.0f);
    CHECK(y[0] == 12 && y[1] == 13 && y[2] == 14);
    CHECK(b.n_sparse == 1 && !b.dense && b.width == 3);
    shard_slice(&b, y, 2, 3); /* row 4 alone: a dense batch again */
    CHECK(b.n_rows == 1 && b.dense && b.n_sparse == 0 && b.val[0] == 4.0f);
    shard_slice(&b, y, 1, 1);
    CHECK(b.n_rows == 0);
    ll_batch_deinit(&b);
}

static void one_host_leaves_input_alone(void)
{
    uint64_t keys[3] = {5, 1, 3};
    float rows[6] = {1, 2, 3, 4, 5, 6};
    size_t n = 3;
    ll_err err;
    CHECK_OK(shard_merge_rows(keys, rows, 2, &n, 3, &err));
    CHECK(n == 3 && keys[0] == 5 && rows[5] == 6);
}

int main(void)
{
    TT_BEGIN("test_shard");
    RUN(split_covers_every_row_once);
    RUN(slice_keeps_the_rows);
    RUN(one_host_leaves_input_alone);
    TT_END();
}
