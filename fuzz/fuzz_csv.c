/* SPDX-License-Identifier: Apache-2.0 */
/* fuzz_csv.c - the CSV parser on arbitrary bytes: the first byte picks the options (header,
 * label column, delimiter), the rest is parsed in small batches. It must never crash, and
 * every row must be dense with the same number of values and one label (or none). */
#include "linlearn.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t sel = data[0];
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    o.format = LL_FMT_CSV;
    o.header = sel & 1;
    o.label_column = (sel >> 1 & 3) == 3 ? -1 : (sel >> 1 & 3);
    o.delimiter = (sel >> 3 & 3) == 0 ? 0 : (sel >> 3 & 3) == 1 ? ',' : '\t';
    o.max_record_len = (sel & 0x80) ? 256 : (size_t)1 << 20;
    ll_reader *rd = ll_reader_mem(data + 1, size - 1, "fuzz.csv");
    if (!rd)
        return 0;
    ll_parser *p = NULL;
    ll_err err;
    ll_batch b;
    ll_batch_init(&b);
    if (ll_parser_new(rd, &o, &p, &err) == LL_OK) {
        int eof = 0;
        long width = -1;
        size_t max_rows = 1 + (sel >> 5 & 3);
        while (!eof && ll_parser_next(p, &b, max_rows, &eof, &err) == LL_OK) {
            for (size_t i = 0; i < b.n_rows; i++) {
                size_t n = b.off[i + 1] - b.off[i], nl = b.loff[i + 1] - b.loff[i];
                if (b.sparse[i] || b.dim[i] != n || nl != (o.label_column < 0 ? 0u : 1u))
                    abort();
                if (width < 0)
                    width = (long)n;
                else if ((long)n != width)
                    abort();
            }
            if (b.n_rows > max_rows)
                abort();
        }
    }
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    return 0;
}
