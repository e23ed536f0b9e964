/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text.h - the text-format chunk parsers (CSV in csv.c, LIBSVM in libsvm.c, JSON Lines in jsonl.c)
 * and exact float conversion (float_text.c). A chunk parser turns complete records at the front of
 * a buffer into batch rows; the caller (parse.c) owns the buffer, refills it and calls again.
 */
#ifndef LL_TXT_H
#define LL_TXT_H
#include "linlearn.h"

typedef struct text_state {
    const char *src;        /* name for error messages */
    const ll_parse_opts *o; /* borrowed */
    uint64_t offset;        /* source offset of the next unconsumed byte */
    uint64_t line;          /* 1-based line number of the next unconsumed byte */
    /* CSV */
    char delim; /* resolved delimiter (0 until the first line is seen) */
    int header_done;
    long n_fields; /* fields per line, fixed by the first data line (0: unknown) */
    /* LIBSVM */
    uint64_t max_dim; /* largest column index + 1 seen so far */
    /* scratch owned by the state (grown with mem_realloc, freed by text_state_deinit) */
    float *fbuf;
    uint32_t *ibuf;
    size_t fcap, icap;
    char *sbuf; /* unquoting scratch */
    size_t scap;
} text_state;

void text_state_init(text_state *st, const ll_parse_opts *o, const char *src);
void text_state_deinit(text_state *st);

/*
 * Parses complete records from buf[0..len) and appends their rows to b until b->n_rows reaches
 * max_rows or no complete record remains. With eof set, the bytes are the last of the source,
 * so a final line without a newline is complete. *used receives the bytes consumed (whole
 * records only; 0 means "give me more bytes"). st->offset and st->line advance by what was
 * consumed. Errors carry the source, line, column and byte offset.
 */
typedef ll_code (*text_parse_fn)(text_state *st, const char *buf, size_t len, int eof,
                                 size_t max_rows, ll_batch *b, size_t *used, ll_err *err);

ll_code csv_parse(text_state *st, const char *buf, size_t len, int eof, size_t max_rows,
                  ll_batch *b, size_t *used, ll_err *err);
ll_code libsvm_parse(text_state *st, const char *buf, size_t len, int eof, size_t max_rows,
                     ll_batch *b, size_t *used, ll_err *err);
ll_code jsonl_parse(text_state *st, const char *buf, size_t len, int eof, size_t max_rows,
                    ll_batch *b, size_t *used, ll_err *err);

/* Writes at most 40 bytes of s[0..n) into out (cap >= 200), cut at the end of a line, with every
 * other control byte (a NUL, a tab) shown as \xNN: a message shows what the input holds, not
 * where a C string would end. Returns out. */
char *text_show(char *out, size_t cap, const char *s, size_t n);

/* What a message says about a field that should be a number: "expected a number, found 'x'",
 * or for a NaN or an infinity refused by ll_parse_opts.finite, "expected a finite number". */
const char *text_expected_number(const char *s, size_t n);

/* float_text.c: exact decimal <-> float32 (public as ll_str_to_f32 and ll_f32_to_str). */
#endif
