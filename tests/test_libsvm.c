/* SPDX-License-Identifier: Apache-2.0 */
/* test_libsvm.c - the LIBSVM parser through ll_parser: values bit-exact against strtof, lines
 * straddling reads (1-byte and random-size readers), qid, comments, index base, feature_dim,
 * running shape, errors with their locations, LIBSVM -> RecordIO -> LIBSVM. */
#include "linlearn.h"
#include "mem.h"
#include "rd.h"
#include "support_pb.h"
#include "tt.h"
#include <locale.h>
#include <stdint.h>
#include <unistd.h>

static locale_t cloc;

/* A reader over s: whole (mode 0), one byte at a time (mode 1) or pieces of random size
 * (mode 2), named "mem.svm" for the error messages. */
static ll_reader *open_rd(const char *s, size_t len, int mode)
{
    ll_reader *r = mode == 0 ? ll_reader_mem(s, len, "mem.svm")
                             : tsup_piece_reader(s, len, mode == 1 ? 1 : 0, 42 + len);
    snprintf(r->name, sizeof r->name, "mem.svm");
    return r;
}

/* ---- everything a parse produced ---- */
typedef struct {
    float *v, *lab;
    uint32_t *ix;
    uint64_t *dim;
    size_t nv, nl, nr, cap_v, cap_l, cap_r;
} rows;

static void rows_free(rows *r)
{
    free(r->v);
    free(r->ix);
    free(r->lab);
    free(r->dim);
    memset(r, 0, sizeof *r);
}

static void rows_add(rows *r, const ll_batch *b)
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
            memcpy(r->ix + r->nv, b->idx + b->off[i], n * sizeof(uint32_t));
        }
        if (nl)
            memcpy(r->lab + r->nl, b->label + b->loff[i], nl * sizeof(float));
        r->dim[r->nr++] = b->dim[i];
        r->nv += n;
        r->nl += nl;
    }
}

/* Parses s with options o through reader mode `mode` in batches of max_rows. */
static ll_code parse_str(const char *s, size_t len, const ll_parse_opts *o, int mode,
                         size_t max_rows, rows *out, ll_err *err)
{
    memset(out, 0, sizeof *out);
    ll_reader *rd = open_rd(s, len, mode);
    ll_parser *p = NULL;
    ll_code rc = ll_parser_new(rd, o, &p, err);
    ll_batch b;
    ll_batch_init(&b);
    int eof = 0;
    while (rc == LL_OK && !eof) {
        rc = ll_parser_next(p, &b, max_rows, &eof, err);
        if (rc == LL_OK) {
            for (size_t i = 0; i < b.n_rows; i++)
                if (!b.sparse[i])
                    return LL_E_STATE;
            rows_add(out, &b);
        }
    }
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    return rc;
}

static ll_parse_opts libsvm_opts(void)
{
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    o.format = LL_FMT_LIBSVM;
    return o;
}

static int same_bytes(const void *a, const void *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

static int feq(float a, float b)
{
    return same_bytes(&a, &b, 4);
}

static int parse_all_modes(const char *s, const ll_parse_opts *o, rows *out, ll_err *err)
{
    size_t len = strlen(s);
    if (parse_str(s, len, o, 0, 1000, out, err) != LL_OK)
        return 0;
    static const size_t sizes[] = {1, 3, 1000};
    for (int mode = 0; mode < 3; mode++)
        for (int si = 0; si < 3; si++) {
            rows r;
            ll_err e2;
            if (parse_str(s, len, o, mode, sizes[si], &r, &e2) != LL_OK) {
                rows_free(&r);
                fprintf(stderr, "  mode %d size %zu failed: %s\n", mode, sizes[si], e2.msg);
                return 0;
            }
            int same = r.nr == out->nr && r.nv == out->nv && r.nl == out->nl &&
                       same_bytes(r.v, out->v, r.nv * 4) && same_bytes(r.ix, out->ix, r.nv * 4) &&
                       same_bytes(r.lab, out->lab, r.nl * 4) &&
                       same_bytes(r.dim, out->dim, r.nr * 8);
            rows_free(&r);
            if (!same) {
                fprintf(stderr, "  mode %d size %zu differs\n", mode, sizes[si]);
                return 0;
            }
        }
    return 1;
}

static void basic(void)
{
    ll_err err;
    ll_parse_opts o = libsvm_opts();
    rows r;
    CHECK(parse_all_modes("+1 1:0.5 3:2 # comment 9:9\n\n# only a comment\n-1 qid:7 2:1.5\r\n"
                          "0\n2.5e1\t4:-1e-3",
                          &o, &r, &err));
    CHECK(r.nr == 4 && r.nl == 4 && r.nv == 4);
    CHECK(r.lab[0] == 1 && r.lab[1] == -1 && r.lab[2] == 0 && r.lab[3] == 25);
    CHECK(r.ix[0] == 0 && r.ix[1] == 2 && r.ix[2] == 1 && r.ix[3] == 3);
    CHECK(r.v[0] == 0.5f && r.v[1] == 2 && r.v[2] == 1.5f && feq(r.v[3], -1e-3f));
    /* running shape: largest column + 1 so far */
    CHECK(r.dim[0] == 3 && r.dim[1] == 3 && r.dim[2] == 3 && r.dim[3] == 4);
    rows_free(&r);
    o.index_base = 0;
    CHECK(parse_all_modes("1 0:1 5:2\n", &o, &r, &err));
    CHECK(r.ix[0] == 0 && r.ix[1] == 5 && r.dim[0] == 6);
    rows_free(&r);
    o.index_base = 1;
    o.feature_dim = 100;
    CHECK(parse_all_modes("1 1:1 100:2\n0 3:1\n", &o, &r, &err));
    CHECK(r.ix[1] == 99 && r.dim[0] == 100 && r.dim[1] == 100);
    rows_free(&r);
    CHECK(parse_all_modes("", &o, &r, &err) && r.nr == 0);
    rows_free(&r);
    /* sniffed without a format */
    o.format = LL_FMT_AUTO;
    CHECK(parse_all_modes("1 1:1\n", &o, &r, &err) && r.nr == 1 && r.nv == 1);
    rows_free(&r);
}

static uint64_t rs = 88172645463325252ull;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static void exact_values(void)
{
    size_t n_rows = 300, cap = n_rows * 20 * 48 + 1;
    char *s = malloc(cap), tok[64];
    float *want = malloc(n_rows * 20 * sizeof *want);
    uint32_t *wix = malloc(n_rows * 20 * sizeof *wix);
    float *wl = malloc(n_rows * sizeof *wl);
    size_t l = 0, nv = 0;
    for (size_t i = 0; i < n_rows; i++) {
        wl[i] = (rnd() & 1) ? 1.0f : -1.0f;
        l += (size_t)snprintf(s + l, cap - l, "%s", wl[i] > 0 ? "+1" : "-1");
        int n = (int)(rnd() % 20);
        uint32_t col = 0;
        for (int j = 0; j < n; j++) {
            col += 1 + (uint32_t)(rnd() % 1000);
            snprintf(tok, sizeof tok, "%.*g", 1 + (int)(rnd() % 12),
                     (double)(int64_t)rnd() * 1e-17);
            want[nv] = strtof_l(tok, NULL, cloc);
            wix[nv++] = col - 1;
            l += (size_t)snprintf(s + l, cap - l, "%s%u:%s", (rnd() & 1) ? " " : "\t", col, tok);
        }
        l += (size_t)snprintf(s + l, cap - l, "%s", (rnd() & 1) ? "\n" : " \r\n");
    }
    ll_err err;
    ll_parse_opts o = libsvm_opts();
    rows r;
    int ok = parse_all_modes(s, &o, &r, &err) && r.nr == n_rows && r.nv == nv &&
             same_bytes(r.ix, wix, nv * 4) && same_bytes(r.lab, wl, n_rows * 4);
    for (size_t k = 0; ok && k < nv; k++)
        ok = feq(r.v[k], want[k]);
    rows_free(&r);
    free(s);
    free(want);
    free(wix);
    free(wl);
    CHECK(ok);
}

static int expect_error(const char *s, const ll_parse_opts *o, const char *msg, uint64_t line,
                        uint64_t col, uint64_t off)
{
    for (int mode = 0; mode < 3; mode++) {
        rows r;
        ll_err err;
        ll_err_clear(&err);
        ll_code rc = parse_str(s, strlen(s), o, mode, 2, &r, &err);
        rows_free(&r);
        char buf[512];
        ll_err_format(&err, buf, sizeof buf);
        if (rc != LL_E_PARSE || !strstr(err.msg, msg) || err.line != line ||
            (col && err.column != col) || err.offset != off || !(err.has & LL_ERR_OFFSET) ||
            strncmp(buf, "mem.svm:", 8) != 0) {
            fprintf(stderr, "  mode %d: rc %d '%s' (want '%s' at %llu:%llu byte %llu)\n", mode,
                    (int)rc, buf, msg, (unsigned long long)line, (unsigned long long)col,
                    (unsigned long long)off);
            return 0;
        }
    }
    return 1;
}

static void errors(void)
{
    ll_parse_opts o = libsvm_opts();
    CHECK(expect_error("1 1:2\nx 1:2\n", &o, "expected a label (a number), found 'x'", 2, 1, 6));
    CHECK(expect_error("1 1:2\n1 3:abc\n", &o, "after 'index:', found 'abc'", 2, 2, 10));
    CHECK(expect_error("1 1:2\n1 3\n", &o, "expected 'index:value', found '3'", 2, 2, 8));
    CHECK(expect_error("1 1:2 0:5\n", &o, "feature index 0 is below the index base 1", 1, 3, 6));
    CHECK(expect_error("1 1:\n", &o, "found the end of the line", 1, 2, 4));
    CHECK(expect_error("1 qid:x 1:1\n", &o, "'qid:'", 1, 2, 2));
    CHECK(expect_error("1 99999999999:1\n", &o, "too large", 1, 2, 2));
    o.feature_dim = 10;
    CHECK(expect_error("1 10:1\n1 11:1\n", &o, "outside feature_dim 10", 2, 2, 9));
}

static void convert_round_trip(void)
{
    char dir[] = "/tmp/ll_svm_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char in[128], pbr[128], out[128];
    snprintf(in, sizeof in, "%s/in.libsvm", dir);
    snprintf(pbr, sizeof pbr, "%s/mid.pbr", dir);
    snprintf(out, sizeof out, "%s/out.libsvm", dir);
    FILE *f = fopen(in, "w");
    CHECK(f != NULL);
    for (int i = 0; i < 2000; i++) {
        fprintf(f, "%s", (rnd() & 1) ? "1" : "-1");
        uint32_t col = 0;
        for (int j = 0; j < 12; j++) {
            col += 1 + (uint32_t)(rnd() % 500);
            uint32_t bits = (uint32_t)rnd() & 0xBF7FFFFFu;
            float v;
            memcpy(&v, &bits, 4);
            fprintf(f, " %u:%.9g", col, (double)v);
        }
        fprintf(f, "\n");
    }
    fclose(f);
    ll_err err;
    ll_convert_opts co;
    ll_convert_opts_init(&co);
    co.in.feature_dim = 7000;
    uint64_t n = 0;
    CHECK_OK(ll_convert(in, pbr, &co, &n, &err));
    CHECK(n == 2000);
    ll_convert_opts_init(&co);
    CHECK_OK(ll_convert(pbr, out, &co, &n, &err));
    CHECK(n == 2000);
    size_t l1, l2;
    char *a = (char *)tt_read_file(in, &l1), *b2 = (char *)tt_read_file(out, &l2);
    CHECK(a && b2);
    ll_parse_opts o = libsvm_opts();
    rows r1, r2;
    ll_code rc1 = parse_str(a, l1, &o, 0, 300, &r1, &err);
    ll_code rc2 = parse_str(b2, l2, &o, 0, 300, &r2, &err);
    int same = rc1 == LL_OK && rc2 == LL_OK && r1.nr == 2000 && r1.nr == r2.nr && r1.nv == r2.nv &&
               same_bytes(r1.v, r2.v, r1.nv * 4) && same_bytes(r1.ix, r2.ix, r1.nv * 4) &&
               same_bytes(r1.lab, r2.lab, r1.nl * 4);
    rows_free(&r1);
    rows_free(&r2);
    free(a);
    free(b2);
    unlink(in);
    unlink(pbr);
    unlink(out);
    rmdir(dir);
    CHECK(same);
}

static void out_of_memory(void)
{
    static const char s[] = "1 1:2 3:4\n-1 2:5\n1 7:1 8:2 9:3\n0\n";
    ll_parse_opts o = libsvm_opts();
    int succeeded = 0, nomem = 0;
    for (unsigned long n = 1; n < 200 && !succeeded; n++) {
        ll_err err;
        mem_fail_after(n);
        ll_reader *rd = ll_reader_mem(s, sizeof s - 1, "oom.svm");
        ll_code rc = LL_E_NOMEM;
        ll_parser *p = NULL;
        ll_batch b;
        ll_batch_init(&b);
        if (rd)
            rc = ll_parser_new(rd, &o, &p, &err);
        int eof = 0;
        size_t seen = 0;
        while (rc == LL_OK && !eof) {
            rc = ll_parser_next(p, &b, 2, &eof, &err);
            seen += rc == LL_OK ? b.n_rows : 0;
        }
        mem_fail_after(0);
        ll_batch_deinit(&b);
        ll_parser_free(p);
        ll_reader_free(rd);
        CHECKF(rc == LL_OK || rc == LL_E_NOMEM, "n=%lu rc=%d", n, (int)rc);
        if (rc == LL_OK) {
            CHECK(seen == 4);
            succeeded = 1;
        } else {
            nomem++;
        }
    }
    CHECK(succeeded && nomem > 2);
}

int main(void)
{
    TT_BEGIN("libsvm");
    cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    RUN(basic);
    RUN(exact_values);
    RUN(errors);
    RUN(convert_round_trip);
    RUN(out_of_memory);
    freelocale(cloc);
    TT_END();
}
