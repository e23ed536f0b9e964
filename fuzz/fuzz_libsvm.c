/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_libsvm.c - the LIBSVM parser on arbitrary bytes (the first byte picks index base,
 * feature_dim and batch size), then the same bytes with the format sniffed (which may pick
 * JSON Lines or CSV). It must never crash; LIBSVM rows must be sparse, one label each, with
 * every column below the row's shape. */
#include "linlearn.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void run(const uint8_t *data, size_t size, const ll_parse_opts *o, size_t max_rows)
{
    ll_reader *rd = ll_reader_mem(data, size, "fuzz.libsvm");
    if (!rd)
        return;
    ll_parser *p = NULL;
    ll_err err;
    ll_batch b;
    ll_batch_init(&b);
    if (ll_parser_new(rd, o, &p, &err) == LL_OK) {
        int eof = 0;
        int svm = ll_parser_format(p) == LL_FMT_LIBSVM;
        uint64_t last_dim = 0;
        while (!eof && ll_parser_next(p, &b, max_rows, &eof, &err) == LL_OK) {
            if (b.n_rows > max_rows)
                abort();
            for (size_t i = 0; i < b.n_rows; i++) {
                size_t n = b.off[i + 1] - b.off[i];
                if (b.sparse[i])
                    for (size_t k = b.off[i]; k < b.off[i + 1]; k++)
                        if (b.idx[k] >= b.dim[i])
                            abort();
                if (!b.sparse[i] && b.dim[i] != n)
                    abort();
                if (!svm)
                    continue;
                if (!b.sparse[i] || b.loff[i + 1] - b.loff[i] != 1)
                    abort();
                if (o->feature_dim ? b.dim[i] != o->feature_dim : b.dim[i] < last_dim)
                    abort();
                last_dim = b.dim[i];
            }
        }
    }
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t sel = data[0];
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    o.format = LL_FMT_LIBSVM;
    o.index_base = sel & 1;
    o.feature_dim = (sel & 2) ? 1000 : 0;
    o.max_record_len = (sel & 0x80) ? 256 : (size_t)1 << 20;
    size_t max_rows = 1 + (sel >> 2 & 7);
    run(data + 1, size - 1, &o, max_rows);
    o.format = LL_FMT_AUTO;
    run(data + 1, size - 1, &o, max_rows);
    return 0;
}
