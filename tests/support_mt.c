/* SPDX-License-Identifier: Apache-2.0 */
/* support_mt.c - see support_mt.h. */
#include "support_mt.h"
#include "support_rows.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *p;
    size_t n, cap;
} dig;

static void put(dig *d, const void *s, size_t n)
{
    if (d->n + n > d->cap) {
        size_t c = d->cap ? d->cap : 4096;
        while (c < d->n + n)
            c *= 2;
        d->p = realloc(d->p, c);
        if (!d->p)
            abort();
        d->cap = c;
    }
    if (n)
        memcpy(d->p + d->n, s, n);
    d->n += n;
}

/* Everything a parse delivers, serialised: one record per batch, then the outcome. */
static ll_code run(const char *s, size_t len, const ll_parse_opts *o, int mode, size_t bs,
                   const char *name, dig *d, char *msg, size_t cap)
{
    ll_err err;
    memset(&err, 0, sizeof err);
    ll_reader *rd = tsup_mode_reader(s, len, mode, name);
    ll_parser *p = NULL;
    ll_code rc = ll_parser_new(rd, o, &p, &err);
    ll_batch b;
    ll_batch_init(&b);
    int eof = 0;
    while (rc == LL_OK && !eof) {
        rc = ll_parser_next(p, &b, bs, &eof, &err);
        if (rc != LL_OK)
            break;
        put(d, &b.n_rows, sizeof b.n_rows);
        put(d, &b.dense, sizeof b.dense);
        put(d, &b.width, sizeof b.width);
        for (size_t i = 0; i < b.n_rows; i++) {
            size_t nv = b.off[i + 1] - b.off[i], nl = b.loff[i + 1] - b.loff[i];
            put(d, &nv, sizeof nv);
            put(d, b.val + b.off[i], nv * sizeof *b.val);
            if (b.sparse[i])
                put(d, b.idx + b.off[i], nv * sizeof *b.idx);
            put(d, &nl, sizeof nl);
            put(d, b.label + b.loff[i], nl * sizeof *b.label);
            put(d, &b.dim[i], sizeof b.dim[i]);
            put(d, &b.sparse[i], 1);
            put(d, &b.weight[i], sizeof b.weight[i]);
            put(d, &b.src_line[i], sizeof b.src_line[i]);
            put(d, &b.src_off[i], sizeof b.src_off[i]);
        }
    }
    /* rows delivered (after a failure, what the failing call had counted is left out: on one
     * thread it depends on how the reads fell) */
    uint64_t rows = p && rc == LL_OK ? ll_parser_rows(p) : 0;
    put(d, &rows, sizeof rows);
    put(d, &rc, sizeof rc);
    char m[1024] = "";
    if (rc != LL_OK)
        ll_err_format(&err, m, sizeof m);
    put(d, m, strlen(m) + 1);
    if (msg && cap)
        snprintf(msg, cap, "%s", m);
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    return rc;
}

int tsup_mt_same(const char *s, size_t len, const ll_parse_opts *o, const char *name,
                 ll_code *rc_out, char *msg, size_t cap)
{
    static const size_t bss[] = {1, 3, 1000};
    static const uint64_t chunks[] = {1, 2, 7, 33, 64, 4096};
    int ok = 1;
    for (size_t bi = 0; bi < sizeof bss / sizeof *bss; bi++) {
        ll_parse_opts one = *o;
        one.threads = 1;
        dig ref = {0};
        ll_code rc = run(s, len, &one, 0, bss[bi], name, &ref, bi == 0 ? msg : NULL, cap);
        if (bi == 0 && rc_out)
            *rc_out = rc;
        for (unsigned th = 2; th <= 4; th++)
            for (size_t ci = 0; ci < sizeof chunks / sizeof *chunks; ci++)
                for (int mode = 0; mode <= 2; mode += 2) {
                    ll_parse_opts mt = *o;
                    mt.threads = th;
                    mt.chunk_bytes = chunks[ci];
                    dig d = {0};
                    char m[1024];
                    run(s, len, &mt, mode, bss[bi], name, &d, m, sizeof m);
                    if (d.n != ref.n || memcmp(d.p, ref.p, d.n) != 0) {
                        if (ok)
                            fprintf(stderr,
                                    "tsup_mt_same: %s: threads %u, chunk %llu, batch %zu, "
                                    "reader mode %d differ from one thread (%s)\n",
                                    name, th, (unsigned long long)chunks[ci], bss[bi], mode, m);
                        ok = 0;
                    }
                    free(d.p);
                }
        free(ref.p);
    }
    return ok;
}
