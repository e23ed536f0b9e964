/* SPDX-License-Identifier: Apache-2.0 */
/* test_jsonl.c - the JSON Lines parser through ll_parser: the sink's dense and sparse shapes,
 * SageMaker inference shapes, NaN/Infinity spellings, label lists, lines straddling reads
 * (1-byte and random-size readers), errors with line/column, and LIBSVM/CSV -> JSONL -> same
 * values round trips through ll_convert. */
#include "linlearn.h"
#include "mem.h"
#include "rd.h"
#include "support_pb.h"
#include "tt.h"
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>

static locale_t cloc;

/* A reader over s: whole (mode 0), one byte at a time (mode 1) or pieces of random size
 * (mode 2), named "mem.jsonl" for the error messages. */
static ll_reader *open_rd(const char *s, size_t len, int mode)
{
    ll_reader *r = mode == 0 ? ll_reader_mem(s, len, "mem.jsonl")
                             : tsup_piece_reader(s, len, mode == 1 ? 1 : 0, 42 + len);
    snprintf(r->name, sizeof r->name, "mem.jsonl");
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
                if (!b.sparse[i] && b.dim[i] != b.off[i + 1] - b.off[i])
                    return LL_E_STATE;
            rows_add(out, &b);
        }
    }
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
    return rc;
}

static ll_parse_opts jl_opts(void)
{
    ll_parse_opts o;
    ll_parse_opts_init(&o);
    o.format = LL_FMT_JSONL;
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

static void shapes(void)
{
    ll_err err;
    ll_parse_opts o = jl_opts();
    rows r;
    CHECK(parse_all_modes(
        "{\"label\": 1.0, \"features\": [0.5, 2.0]}\n"
        "\n"
        "{\"label\": 0, \"features\": {\"keys\": [3, 9], \"values\": [0.5, 2e-3], \"shape\": "
        "[50]}}\r\n"
        "{\"features\": [NaN, Infinity, -Infinity, \"NaN\", \"Infinity\", \"-Infinity\"]}\n"
        "{\"data\": {\"features\": {\"values\": [7, 8]}}}\n"
        "{\"data\": {\"features\": {\"keys\": [1], \"shape\": [4], \"values\": [6]}}, "
        "\"extra\": [{\"a\": \"]}\\\"\"}, null, true]}\n"
        "{\"features\": {\"values\": [1], \"keys\": [2]}, \"label\": [1, 2.5]}\n"
        "  {  \"label\" :  -1 , \"features\" : [ ] }  ",
        &o, &r, &err));
    CHECK(r.nr == 7);
    CHECK(r.nl == 1 + 1 + 0 + 0 + 0 + 2 + 1);
    CHECK(r.lab[0] == 1 && r.lab[1] == 0 && r.lab[2] == 1 && r.lab[3] == 2.5f && r.lab[4] == -1);
    CHECK(r.dim[0] == 2 && r.dim[1] == 50 && r.dim[2] == 6 && r.dim[3] == 2 && r.dim[4] == 4);
    /* a sparse row without a shape takes the running largest key + 1 */
    CHECK(r.dim[5] == 3 && r.dim[6] == 0);
    CHECK(r.v[0] == 0.5f && r.v[2] == 0.5f && feq(r.v[3], 2e-3f) && r.ix[2] == 3 && r.ix[3] == 9);
    CHECK(isnan(r.v[4]) && r.v[5] > 1e38f && r.v[6] < -1e38f && isnan(r.v[7]));
    CHECK(r.v[8] > 1e38f && r.v[9] < -1e38f);
    CHECK(r.v[10] == 7 && r.v[11] == 8 && r.v[12] == 6 && r.ix[12] == 1);
    CHECK(r.v[13] == 1 && r.ix[13] == 2);
    rows_free(&r);
    /* sniffed from the first byte */
    o.format = LL_FMT_AUTO;
    CHECK(parse_all_modes("{\"features\": [1]}\n", &o, &r, &err) && r.nr == 1);
    rows_free(&r);
}

static int expect_error(const char *s, const char *msg, uint64_t line, uint64_t col, uint64_t off)
{
    ll_parse_opts o = jl_opts();
    for (int mode = 0; mode < 3; mode++) {
        rows r;
        ll_err err;
        ll_err_clear(&err);
        ll_code rc = parse_str(s, strlen(s), &o, mode, 2, &r, &err);
        rows_free(&r);
        char buf[512];
        ll_err_format(&err, buf, sizeof buf);
        if (rc != LL_E_PARSE || !strstr(err.msg, msg) || err.line != line ||
            (col && err.column != col) || err.offset != off || !(err.has & LL_ERR_OFFSET) ||
            strncmp(buf, "mem.jsonl:", 10) != 0) {
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
    CHECK(expect_error("{\"features\": [1]}\n{\"features\": [1, x]}\n",
                       "expected a number, found 'x'", 2, 18, 35));
    CHECK(expect_error("{\"features\": [1]}\n[1, 2]\n", "expected '{', found '[1'", 2, 1, 18));
    CHECK(expect_error("{\"label\": 1}\n", "\"features\"", 1, 0, 0));
    CHECK(expect_error("{\"features\": {\"keys\": [1, 2], \"values\": [1]}}\n",
                       "\"keys\" has 2 entries but \"values\" has 1", 1, 14, 13));
    CHECK(expect_error("{\"features\": {\"keys\": [7], \"values\": [1], \"shape\": [5]}}\n",
                       "key 7 is outside the shape 5", 1, 14, 13));
    CHECK(expect_error("{\"features\": [1]} x\n", "unexpected 'x' after the object", 1, 19, 18));
    CHECK(expect_error("{\"features\": [1}\n", "expected ',' or ']'", 1, 16, 15));
    CHECK(expect_error("{\"features\": [1], \"features\": [2]}\n", "given twice", 1, 31, 30));
    CHECK(expect_error("{\"features\": [\"abc\"]}\n", "expected a number", 1, 15, 14));
    CHECK(expect_error("{\"features: [1]}\n", "unterminated string", 1, 2, 1));
    /* the "features" grammar is json_scan.c's, shared with the inference requests */
    CHECK(expect_error("{\"features\": {\"values\": [1, 2], \"shape\": [3]}}\n",
                       "2 values but the shape says 3", 1, 14, 13));
    CHECK(expect_error("{\"features\": {\"shape\": [3]}}\n", "expected \"values\"", 1, 14, 13));
}

static uint64_t rs = 88172645463325252ull;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

/* LIBSVM -> JSONL (sparse) and CSV -> JSONL (dense) keep every value bit for bit. */
static void convert_round_trip(void)
{
    char dir[] = "/tmp/ll_jsonl_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char in[128], mid[128], in2[128], mid2[128];
    snprintf(in, sizeof in, "%s/in.libsvm", dir);
    snprintf(mid, sizeof mid, "%s/mid.jsonl", dir);
    snprintf(in2, sizeof in2, "%s/in.csv", dir);
    snprintf(mid2, sizeof mid2, "%s/mid2.jsonl", dir);
    FILE *f = fopen(in, "w"), *g = fopen(in2, "w");
    CHECK(f && g);
    for (int i = 0; i < 1000; i++) {
        fprintf(f, "%s", (rnd() & 1) ? "1" : "0");
        fprintf(g, "%s", (rnd() & 1) ? "1" : "0");
        uint32_t col = 0;
        for (int j = 0; j < 8; j++) {
            col += 1 + (uint32_t)(rnd() % 500);
            uint32_t bits = (uint32_t)rnd();
            if ((bits & 0x7F800000u) == 0x7F800000u)
                bits = 0x3F800000u; /* no NaN payloads: they need not survive */
            float v;
            memcpy(&v, &bits, 4);
            fprintf(f, " %u:%.9g", col, (double)v);
            fprintf(g, ",%.9g", (double)v);
        }
        fprintf(f, "\n");
        fprintf(g, "\n");
    }
    fclose(f);
    fclose(g);
    ll_err err;
    ll_convert_opts co;
    ll_convert_opts_init(&co);
    co.in.feature_dim = 5000;
    uint64_t n = 0;
    CHECK_OK(ll_convert(in, mid, &co, &n, &err));
    CHECK(n == 1000);
    ll_convert_opts_init(&co);
    CHECK_OK(ll_convert(in2, mid2, &co, &n, &err));
    CHECK(n == 1000);
    int ok = 1;
    for (int k = 0; k < 2 && ok; k++) {
        size_t l1, l2;
        char *a = (char *)tt_read_file(k ? in2 : in, &l1),
             *b2 = (char *)tt_read_file(k ? mid2 : mid, &l2);
        ll_parse_opts o1, o2 = jl_opts();
        ll_parse_opts_init(&o1);
        o1.format = k ? LL_FMT_CSV : LL_FMT_LIBSVM;
        o1.feature_dim = k ? 0 : 5000;
        rows r1, r2;
        ll_code rc1 = parse_str(a, l1, &o1, 0, 300, &r1, &err);
        ll_code rc2 = parse_str(b2, l2, &o2, 2, 300, &r2, &err);
        ok = rc1 == LL_OK && rc2 == LL_OK && r1.nr == 1000 && r1.nr == r2.nr && r1.nv == r2.nv &&
             same_bytes(r1.v, r2.v, r1.nv * 4) && same_bytes(r1.ix, r2.ix, r1.nv * 4) &&
             same_bytes(r1.lab, r2.lab, r1.nl * 4) && same_bytes(r1.dim, r2.dim, r1.nr * 8);
        rows_free(&r1);
        rows_free(&r2);
        free(a);
        free(b2);
    }
    unlink(in);
    unlink(mid);
    unlink(in2);
    unlink(mid2);
    rmdir(dir);
    CHECK(ok);
}

static void out_of_memory(void)
{
    static const char s[] = "{\"label\": [1, 2], \"features\": [1, 2, 3]}\n"
                            "{\"features\": {\"keys\": [1], \"values\": [2], \"shape\": [9]}}\n"
                            "{\"label\": 0, \"features\": [4, 5]}\n";
    ll_parse_opts o = jl_opts();
    int succeeded = 0, nomem = 0;
    for (unsigned long n = 1; n < 200 && !succeeded; n++) {
        ll_err err;
        mem_fail_after(n);
        ll_reader *rd = ll_reader_mem(s, sizeof s - 1, "oom.jsonl");
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
            CHECK(seen == 3);
            succeeded = 1;
        } else {
            nomem++;
        }
    }
    CHECK(succeeded && nomem > 2);
}

int main(void)
{
    TT_BEGIN("jsonl");
    cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    RUN(shapes);
    RUN(errors);
    RUN(convert_round_trip);
    RUN(out_of_memory);
    freelocale(cloc);
    TT_END();
}
