/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_req.h - inference requests in JSON (spec §5.1), parsed by hand straight into a batch:
 *
 *   application/json       {"instances": [INSTANCE, ...]}      (other top-level keys ignored)
 *   application/jsonlines  one INSTANCE per line (blank lines skipped)
 *
 *   INSTANCE  {"features": FEATURES}  |  {"data": {"features": FEATURES}}  |  [v, v, ...]
 *   FEATURES  [v, v, ...]                                   dense row
 *             {"values": [v, ...]}                          dense row (a "shape" must match)
 *             {"keys": [k, ...], "shape": [d, ...], "values": [v, ...]}   sparse row
 *
 * Keys other than these ("configuration", "label", ...) are skipped whatever they hold. Numbers
 * are JSON numbers (NaN, Infinity and -Infinity are accepted, as Python writes them). Errors
 * are LL_E_PARSE naming the instance (or line) and the byte offset of the problem.
 */
#ifndef LL_JSON_REQ_H
#define LL_JSON_REQ_H
#include "linlearn.h"

/* Parses a whole application/json body into b (cleared first). src names the body in errors. */
ll_code json_req_parse(const char *p, size_t len, const char *src, ll_batch *b, ll_err *err);

/* Position of a JSON Lines stream between calls. */
typedef struct json_lines_pos {
    uint64_t offset; /* source offset of the next unconsumed byte */
    uint64_t line;   /* its 1-based line number */
} json_lines_pos;

/* Parses complete lines at the front of buf[0..len) into rows appended to b, until b holds
 * max_rows rows or no complete line remains (with eof set, a last line without a newline is
 * complete). *used receives the bytes consumed; pos advances by them. */
ll_code json_req_lines(const char *buf, size_t len, int eof, size_t max_rows, const char *src,
                       json_lines_pos *pos, ll_batch *b, size_t *used, ll_err *err);
#endif
