/* SPDX-License-Identifier: Apache-2.0 */
/* support_rows.h - test support shared by the parser tests (CSV, LIBSVM, JSON Lines, RecordIO):
 * everything a parse produced, collected in flat arrays; parsing a string under every reader
 * mode and batch size; the out-of-memory loop; comparing two files' parses (round trips). */
#ifndef LL_SUPPORT_ROWS_H
#define LL_SUPPORT_ROWS_H
#include "linlearn.h"
#include <stddef.h>
#include <stdint.h>

/* Every row of a parse: values, column indices (0xFFFFFFFF for the values of a dense row),
 * labels, and each row's dim. */
typedef struct tsup_rows {
    float *v, *lab;
    uint32_t *ix;
    uint64_t *dim;
    size_t nv, nl, nr, cap_v, cap_l, cap_r;
} tsup_rows;

void tsup_rows_free(tsup_rows *r);
void tsup_rows_add(tsup_rows *r, const ll_batch *b);
/* Whether a and b hold the same rows, bit for bit (dims too unless ignore_dim). */
int tsup_rows_same(const tsup_rows *a, const tsup_rows *b, int ignore_dim);

/* What each parsed row must look like (else the parse returns LL_E_STATE). */
enum { TSUP_ANY = 0, TSUP_DENSE = 1, TSUP_SPARSE = 2 };

/* A reader over s named `name`: whole (mode 0), one byte at a time (mode 1) or pieces of
 * random size (mode 2). */
ll_reader *tsup_mode_reader(const char *s, size_t len, int mode, const char *name);
/* Parses s with options o through reader mode `mode` in batches of max_rows into *out (which
 * the caller frees, whatever the outcome). Dense rows must have dim == their value count. */
ll_code tsup_parse(const char *s, size_t len, const ll_parse_opts *o, int mode, size_t max_rows,
                   const char *name, int layout, tsup_rows *out, ll_err *err);
/* Parses s under every reader mode and batch size (1, 3, 1000); all must agree with the
 * first, which is left in *out. 1 if so (a message on stderr otherwise). */
int tsup_parse_all_modes(const char *s, const ll_parse_opts *o, const char *name, int layout,
                         tsup_rows *out, ll_err *err);
/* The out-of-memory loop: parses s in batches of 2 rows with the Nth allocation failing, for
 * N = 1, 2, ... until a run in which the failure hook did not fire. Every run must end in
 * LL_OK with want_rows rows or in LL_E_NOMEM, the hook must have fired in at least one run
 * and the loop must reach a run it did not touch (at most 500). 1 if all holds (a message on
 * stderr otherwise). */
int tsup_parse_oom(const void *s, size_t len, const ll_parse_opts *o, const char *name,
                   size_t want_rows);
/* Parses two files (o1 for a, o2 for b) and compares their rows (tsup_rows_same); want_rows
 * rows each. For round trips: text -> other format -> text. */
int tsup_files_same(const char *a, const ll_parse_opts *o1, const char *b, const ll_parse_opts *o2,
                    size_t want_rows, int ignore_dim);

/* Parse options for format f (ll_parse_opts_init otherwise). */
ll_parse_opts tsup_opts(ll_format f);
/* Bit-for-bit equality (n bytes; 0 bytes are always equal), and of two floats. */
int tsup_same_bytes(const void *a, const void *b, size_t n);
int tsup_feq(float a, float b);
/* A xorshift64 sequence, the same in every test program from its start. */
uint64_t tsup_rnd(void);
#endif
