/* SPDX-License-Identifier: Apache-2.0 */
/* test_jsonl.c - the JSON Lines parser through ll_parser: the sink's dense and sparse shapes,
 * SageMaker inference shapes, NaN/Infinity spellings, label lists, lines straddling reads
 * (1-byte and random-size readers), errors with line/column, and LIBSVM/CSV -> JSONL -> same
 * values round trips through ll_convert. */
#include "linlearn.h"
#include "mem.h"
#include "rd.h"
#include "support_rows.h"
#include "tt.h"
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>

static locale_t cloc;

/* Parses s with options o through reader mode `mode` (support_rows.h) in batches of max_rows,
 * named "mem.jsonl" for the error messages. */
static ll_code parse_str(const char *s, size_t len, const ll_parse_opts *o, int mode,
                         size_t max_rows, tsup_rows *out, ll_err *err)
{
    return tsup_parse(s, len, o, mode, max_rows, "mem.jsonl", TSUP_ANY, out, err);
}

/* Parses s under every reader mode and batch size; all must agree with the first. */
static int parse_all_modes(const char *s, const ll_parse_opts *o, tsup_rows *out, ll_err *err)
{
    return tsup_parse_all_modes(s, o, "mem.jsonl", TSUP_ANY, out, err);
}

static void shapes(void)
{
    ll_err err;
    ll_parse_opts o = tsup_opts(LL_FMT_JSONL);
    tsup_rows r;
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
    CHECK(r.v[0] == 0.5f && r.v[2] == 0.5f && tsup_feq(r.v[3], 2e-3f) && r.ix[2] == 3 &&
          r.ix[3] == 9);
    CHECK(isnan(r.v[4]) && r.v[5] > 1e38f && r.v[6] < -1e38f && isnan(r.v[7]));
    CHECK(r.v[8] > 1e38f && r.v[9] < -1e38f);
    CHECK(r.v[10] == 7 && r.v[11] == 8 && r.v[12] == 6 && r.ix[12] == 1);
    CHECK(r.v[13] == 1 && r.ix[13] == 2);
    tsup_rows_free(&r);
    /* sniffed from the first byte */
    o.format = LL_FMT_AUTO;
    CHECK(parse_all_modes("{\"features\": [1]}\n", &o, &r, &err) && r.nr == 1);
    tsup_rows_free(&r);
}

static int expect_error(const char *s, const char *msg, uint64_t line, uint64_t col, uint64_t off)
{
    ll_parse_opts o = tsup_opts(LL_FMT_JSONL);
    for (int mode = 0; mode < 3; mode++) {
        tsup_rows r;
        ll_err err;
        ll_err_clear(&err);
        ll_code rc = parse_str(s, strlen(s), &o, mode, 2, &r, &err);
        tsup_rows_free(&r);
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
        fprintf(f, "%s", (tsup_rnd() & 1) ? "1" : "0");
        fprintf(g, "%s", (tsup_rnd() & 1) ? "1" : "0");
        uint32_t col = 0;
        for (int j = 0; j < 8; j++) {
            col += 1 + (uint32_t)(tsup_rnd() % 500);
            uint32_t bits = (uint32_t)tsup_rnd();
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
        ll_parse_opts o1, o2 = tsup_opts(LL_FMT_JSONL);
        ll_parse_opts_init(&o1);
        o1.format = k ? LL_FMT_CSV : LL_FMT_LIBSVM;
        o1.feature_dim = k ? 0 : 5000;
        ok = tsup_files_same(k ? in2 : in, &o1, k ? mid2 : mid, &o2, 1000, 0);
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
    ll_parse_opts o = tsup_opts(LL_FMT_JSONL);
    CHECK(tsup_parse_oom(s, sizeof s - 1, &o, "oom.jsonl", 3));
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
