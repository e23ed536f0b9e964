/* SPDX-License-Identifier: Apache-2.0 */
/* csv.c - placeholder until the CSV chunk parser lands. */
#include "err.h"
#include "mem.h"
#include "txt.h"
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

ll_code csv_parse(txt_state *st, const char *buf, size_t len, int eof, size_t max_rows, ll_batch *b,
                  size_t *used, ll_err *err)
{
    *used = 0;
    return err_set(err, LL_E_STATE, "CSV input is not implemented yet");
}
