/* SPDX-License-Identifier: Apache-2.0 */
/* parse_mt.h - CSV and LIBSVM chunks parsed on worker threads, delivered in input order
 * (parse_mt.c); used by parse.c when ll_parse_opts.threads is not 1. */
#ifndef LL_PARSE_MT_H
#define LL_PARSE_MT_H

#include "rd.h"
#include "text.h"

/* Bytes of text per chunk when ll_parse_opts.chunk_bytes is 0: small enough that the
 * 2 x threads + 1 chunks in flight, with their parsed rows, stay a few MiB on narrow rows. */
#define PMT_CHUNK_DEFAULT ((size_t)256 << 10)

typedef struct pmt pmt;

/* Workers over the window tb of a parser whose state is ts (both borrowed; ts's settings must
 * be decided: delimiter, header and width for CSV). threads 0: one per core. chunk 0: 1 MiB. */
ll_code pmt_new(rd_buf *tb, text_state *ts, text_parse_fn fn, int csv, uint64_t threads,
                uint64_t chunk, pmt **out, ll_err *err);
/* Appends rows to b until it holds max_rows, the input ends (*eof), or the rest of the input
 * must go through the one-thread path (*seq: tb and ts are then at the first byte it has to
 * parse). Errors are the one-thread path's, after the rows before them. */
ll_code pmt_next(pmt *m, ll_batch *b, size_t max_rows, int *eof, int *seq, ll_err *err);
void pmt_free(pmt *m);
#endif
