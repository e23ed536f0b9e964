/* SPDX-License-Identifier: Apache-2.0 */
/* text.c - the state shared by the text chunk parsers (csv.c, libsvm.c, jsonl.c): position,
 * per-format settings discovered from the data, and scratch buffers. */
#include "text.h"
#include "mem.h"
#include <string.h>

void text_state_init(text_state *st, const ll_parse_opts *o, const char *src)
{
    memset(st, 0, sizeof *st);
    st->o = o;
    st->src = src;
    st->line = 1;
}

void text_state_deinit(text_state *st)
{
    mem_free(st->fbuf);
    mem_free(st->ibuf);
    mem_free(st->sbuf);
    memset(st, 0, sizeof *st);
}
