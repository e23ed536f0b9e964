/* SPDX-License-Identifier: Apache-2.0 */
/* support_mt.h - test support for the parallel text parser (src/parse_mt.c): a parse with
 * threads compared with the one-thread parse, batch by batch, row by row, bit by bit, and
 * down to the error message. */
#ifndef LL_SUPPORT_MT_H
#define LL_SUPPORT_MT_H
#include "linlearn.h"
#include <stddef.h>

/* Parses s (named `name`) with o as it is, and again with threads 2, 3 and 4, chunk sizes from
 * 1 byte to 4 KiB and batch sizes 1, 3 and 1000, whole and through a reader of random-size
 * pieces. Every run must give the same batches (row counts, values, indices, dims, labels,
 * weights, source lines and offsets), the same rows total and the same outcome: LL_OK, or the
 * same code and formatted message. Returns 1 when all agree (else a message on stderr); the
 * one-thread outcome goes to *rc_out and its message to msg (cap bytes) when not NULL. */
int tsup_mt_same(const char *s, size_t len, const ll_parse_opts *o, const char *name,
                 ll_code *rc_out, char *msg, size_t cap);
#endif
