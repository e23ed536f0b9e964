/* SPDX-License-Identifier: Apache-2.0 */
/* support_rows.c - the parser test support of support_rows.h. */
#include "support_rows.h"
#include "mem.h"
#include "rd.h"
#include "support_pb.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tsup_rows_free(tsup_rows *r)
{
    free(r->v);
    free(r->ix);
    free(r->lab);
    free(r->dim);
    memset(r, 0, sizeof *r);
}

void tsup_rows_add(tsup_rows *r, const ll_batch *b)
{
    for (size_t i = 0; i < b->n_rows; i++) {
        size_t n = b->off[i + 1] - b->off[i], nl = b->loff[i + 1] - b->loff[i];
        if (r->nv + n > r->cap_v) {
            r->cap_v = (r->nv + n) * 2 + 16;
            r->v = realloc(r->v, r->cap_v * sizeof *r->v);
            r->ix = realloc(r->ix, r->cap_v * sizeof *r->ix);
        }
        if (r->nl + nl > r->cap_l)
            r->lab = realloc(r->lab, (r->cap_l = (r->nl + nl) * 2 + 16) * sizeof *r->lab);
        if (r->nr + 1 > r->cap_r)
            r->dim = realloc(r->dim, (r->cap_r = r->nr * 2 + 16) * sizeof *r->dim);
        if (n) {
            memcpy(r->v + r->nv, b->val + b->off[i], n * sizeof(float));
            if (b->sparse[i])
                memcpy(r->ix + r->nv, b->idx + b->off[i], n * sizeof(uint32_t));
            else
                memset(r->ix + r->nv, 0xFF, n * sizeof(uint32_t));
        }
        if (nl)
            memcpy(r->lab + r->nl, b->label + b->loff[i], nl * sizeof(float));
        r->dim[r->nr++] = b->dim[i];
        r->nv += n;
        r->nl += nl;
    }
}

ll_parse_opts tsup_opts(ll_format f)
{
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    o.format = f;
    return o;
}

int tsup_same_bytes(const void *a, const void *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

int tsup_feq(float a, float b)
{
    return tsup_same_bytes(&a, &b, 4);
}

static uint64_t rnd_state = 88172645463325252ull;
uint64_t tsup_rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

int tsup_rows_same(const tsup_rows *a, const tsup_rows *b, int ignore_dim)
{
    return a->nr == b->nr && a->nv == b->nv && a->nl == b->nl &&
           tsup_same_bytes(a->v, b->v, a->nv * 4) && tsup_same_bytes(a->ix, b->ix, a->nv * 4) &&
           tsup_same_bytes(a->lab, b->lab, a->nl * 4) &&
           (ignore_dim || tsup_same_bytes(a->dim, b->dim, a->nr * 8));
}

ll_reader *tsup_mode_reader(const char *s, size_t len, int mode, const char *name)
{
    ll_reader *r = mode == 0 ? ll_reader_mem(s, len, name)
                             : tsup_piece_reader(s, len, mode == 1 ? 1 : 0, 42 + len);
    snprintf(r->name, sizeof r->name, "%s", name);
    return r;
}

ll_code tsup_parse(const char *s, size_t len, const ll_parse_opts *o, int mode, size_t max_rows,
                   const char *name, int layout, tsup_rows *out, ll_err *err)
{
    memset(out, 0, sizeof *out);
    ll_reader *rd = tsup_mode_reader(s, len, mode, name);
    ll_parser *p = NULL;
    ll_code rc = ll_parser_new(rd, o, &p, err);
    ll_batch b;
    ll_batch_init(&b);
    int eof = 0;
    while (rc == LL_OK && !eof) {
        rc = ll_parser_next(p, &b, max_rows, &eof, err);
        if (rc != LL_OK)
            break;
        for (size_t i = 0; i < b.n_rows && rc == LL_OK; i++)
            if ((layout == TSUP_DENSE && b.sparse[i]) || (layout == TSUP_SPARSE && !b.sparse[i]) ||
                (!b.sparse[i] && b.dim[i] != b.off[i + 1] - b.off[i]))
                rc = LL_E_STATE;
        tsup_rows_add(out, &b);
    }
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    return rc;
}

int tsup_parse_all_modes(const char *s, const ll_parse_opts *o, const char *name, int layout,
                         tsup_rows *out, ll_err *err)
{
    size_t len = strlen(s);
    if (tsup_parse(s, len, o, 0, 1000, name, layout, out, err) != LL_OK)
        return 0;
    static const size_t sizes[] = {1, 3, 1000};
    for (int mode = 0; mode < 3; mode++)
        for (int si = 0; si < 3; si++) {
            tsup_rows r;
            ll_err e2;
            if (tsup_parse(s, len, o, mode, sizes[si], name, layout, &r, &e2) != LL_OK) {
                tsup_rows_free(&r);
                fprintf(stderr, "  mode %d size %zu failed: %s\n", mode, sizes[si], e2.msg);
                return 0;
            }
            int same = tsup_rows_same(&r, out, 0);
            tsup_rows_free(&r);
            if (!same) {
                fprintf(stderr, "  mode %d size %zu differs\n", mode, sizes[si]);
                return 0;
            }
        }
    return 1;
}

int tsup_parse_oom(const void *s, size_t len, const ll_parse_opts *o, const char *name,
                   size_t want_rows)
{
    unsigned long fired = 0;
    mem_fail_after(0);
    for (unsigned long n = 1; n <= 500; n++) {
        ll_err err;
        mem_fail_after(n);
        ll_reader *rd = ll_reader_mem(s, len, name);
        ll_code rc = LL_E_NOMEM;
        ll_parser *p = NULL;
        ll_batch b;
        ll_batch_init(&b);
        if (rd)
            rc = ll_parser_new(rd, o, &p, &err);
        int eof = 0;
        size_t rows = 0;
        while (rc == LL_OK && !eof) {
            rc = ll_parser_next(p, &b, 2, &eof, &err);
            rows += rc == LL_OK ? b.n_rows : 0;
        }
        /* allocations made during the run: the hook fired when they reached n */
        int hit = mem_fail_after(0) >= n;
        ll_batch_deinit(&b);
        ll_parser_free(p);
        ll_reader_free(rd);
        if (rc != LL_OK && rc != LL_E_NOMEM) {
            fprintf(stderr, "  oom n=%lu: rc %d (%s)\n", n, (int)rc, err.msg);
            return 0;
        }
        if (rc == LL_E_NOMEM && !hit) {
            fprintf(stderr, "  oom n=%lu: out of memory without a failed allocation\n", n);
            return 0;
        }
        if (rc == LL_OK && rows != want_rows) {
            fprintf(stderr, "  oom n=%lu: %zu rows, want %zu\n", n, rows, want_rows);
            return 0;
        }
        fired += hit;
        if (!hit) {
            if (fired == 0)
                fprintf(stderr, "  oom: the failure hook never fired\n");
            return fired > 0;
        }
    }
    fprintf(stderr, "  oom: every one of 500 runs still reached the failure hook\n");
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *p = malloc(cap);
    for (size_t k; p && (k = fread(p + n, 1, cap - n, f)) > 0;) {
        n += k;
        if (n == cap)
            p = realloc(p, cap *= 2);
    }
    fclose(f);
    *len = n;
    return p;
}

int tsup_files_same(const char *a, const ll_parse_opts *o1, const char *b, const ll_parse_opts *o2,
                    size_t want_rows, int ignore_dim)
{
    size_t l1 = 0, l2 = 0;
    char *x = read_file(a, &l1), *y = read_file(b, &l2);
    tsup_rows r1, r2;
    ll_err err;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    int ok = x && y && tsup_parse(x, l1, o1, 0, 300, a, TSUP_ANY, &r1, &err) == LL_OK &&
             tsup_parse(y, l2, o2, 2, 300, b, TSUP_ANY, &r2, &err) == LL_OK;
    if (!ok)
        fprintf(stderr, "  cannot read or parse %s or %s\n", a, b);
    else if (r1.nr != want_rows || !tsup_rows_same(&r1, &r2, ignore_dim)) {
        fprintf(stderr, "  %s (%zu rows) and %s (%zu rows) differ\n", a, r1.nr, b, r2.nr);
        ok = 0;
    }
    tsup_rows_free(&r1);
    tsup_rows_free(&r2);
    free(x);
    free(y);
    return ok;
}
