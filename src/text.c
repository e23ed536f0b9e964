/* SPDX-License-Identifier: Apache-2.0 */
/* text.c - the state shared by the text chunk parsers (csv.c, libsvm.c, jsonl.c): position,
 * per-format settings discovered from the data, and scratch buffers. */
#include "text.h"
#include "mem.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

void text_state_init(text_state *st, const ll_parse_opts *o, const char *src)
{
    memset(st, 0, sizeof *st);
    st->o = o;
    st->src = src;
    st->line = 1;
}

char *text_show(char *out, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t k = 0; k < n && k < 40 && s[k] != '\n' && s[k] != '\r' && o + 5 < cap; k++) {
        unsigned char ch = (unsigned char)s[k];
        if (ch < 0x20 || ch == 0x7f)
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        else
            out[o++] = (char)ch;
    }
    out[o] = 0;
    return out;
}

const char *text_expected_number(const char *s, size_t n)
{
    float f;
    if (n && ll_str_to_f32(s, n, &f) == n && !isfinite(f))
        return "expected a finite number (NaN and infinity are refused in training data)";
    return "expected a number";
}

void text_state_deinit(text_state *st)
{
    mem_free(st->fbuf);
    mem_free(st->ibuf);
    mem_free(st->sbuf);
    memset(st, 0, sizeof *st);
}
