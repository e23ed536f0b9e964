/* SPDX-License-Identifier: Apache-2.0 */
/* txt.c - the state shared by the text chunk parsers (csv.c, svm.c, jsonl.c): position,
 * per-format settings discovered from the data, and scratch buffers. */
#include "txt.h"
#include "mem.h"
#include <string.h>

void txt_state_init(txt_state *st, const ll_parse_opts *o, const char *src)
{
    memset(st, 0, sizeof *st);
    st->o = o;
    st->src = src;
    st->line = 1;
}

void txt_state_deinit(txt_state *st)
{
    mem_free(st->fbuf);
    mem_free(st->ibuf);
    mem_free(st->sbuf);
    memset(st, 0, sizeof *st);
}
