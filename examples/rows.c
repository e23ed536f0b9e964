/* SPDX-License-Identifier: Apache-2.0 */
/* rows.c - counts the rows, labels and non-zeros of any input linlearn reads, using only the
 * public header: `build/examples/rows FILE` (FILE may be -, a CSV, LIBSVM, JSON Lines or
 * RecordIO-protobuf file). */
#include "linlearn.h"
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    ll_err err;
    ll_reader *rd = NULL;
    ll_parser *p = NULL;
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    ll_batch b;
    ll_batch_init(&b);
    unsigned long long rows = 0, labelled = 0, values = 0;
    int eof = 0, status = 0;
    if (ll_reader_open(argv[1], &rd, &err) != LL_OK || ll_parser_new(rd, &o, &p, &err) != LL_OK)
        eof = status = 1;
    while (!eof) {
        if (ll_parser_next(p, &b, 1024, &eof, &err) != LL_OK) {
            status = 1;
            break;
        }
        for (size_t i = 0; i < b.n_rows; i++) {
            labelled += b.loff[i + 1] > b.loff[i];
            values += b.off[i + 1] - b.off[i];
        }
        rows += b.n_rows;
    }
    if (status) {
        char msg[512];
        fprintf(stderr, "%s\n", ll_err_format(&err, msg, sizeof msg));
    } else {
        printf("%s: %llu rows (%llu labelled), %llu stored values, format %s\n", argv[1], rows,
               labelled, values, ll_format_name(ll_parser_format(p)));
    }
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    return status;
}
