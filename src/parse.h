/* SPDX-License-Identifier: Apache-2.0 */
/* parse.h - what inspect needs from a parser beyond the public API. */
#ifndef LL_PARSE_H
#define LL_PARSE_H
#include "linlearn.h"
#include "pb.h"

/* The Record decoded last (RecordIO input only; NULL otherwise), its byte offset and payload
 * length. Valid until the next ll_parser_next. */
const pb_record *parse_last_record(const ll_parser *p, uint64_t *offset, size_t *len);
/* Bytes consumed from the source so far. */
uint64_t parse_bytes(const ll_parser *p);
#endif
