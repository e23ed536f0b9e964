/* SPDX-License-Identifier: Apache-2.0 */
/* sink.h - row-range writing for sharded output, and the JSON number spelling shared with the
 * other JSON writers. */
#ifndef LL_SINK_H
#define LL_SINK_H
#include "linlearn.h"

/* Writes rows [from, to) of b. */
ll_code sink_write_rows(ll_sink *s, const ll_batch *b, size_t from, size_t to, ll_err *err);
/* A float as a JSON number the way Python writes it (1.0, 0.25, NaN, Infinity); out needs 24
 * bytes. Returns the length. */
size_t sink_json_f32(char *out, float v);
#endif
