/* SPDX-License-Identifier: Apache-2.0 */
/* test_libsvm.c - the LIBSVM parser through ll_parser: values bit-exact against strtof, lines
 * straddling reads (1-byte and random-size readers), qid, comments, index base, feature_dim,
 * running shape, errors with their locations, LIBSVM -> RecordIO -> LIBSVM. */
#include "linlearn.h"
#include "mem.h"
#include "rd.h"
#include "support_mt.h"
#include "support_rows.h"
#include "tt.h"
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static locale_t cloc;

/* Parses s with options o through reader mode `mode` (support_rows.h) in batches of max_rows,
 * named "mem.svm" for the error messages. */
static ll_code parse_str(const char *s, size_t len, const ll_parse_opts *o, int mode,
                         size_t max_rows, tsup_rows *out, ll_err *err)
{
    return tsup_parse(s, len, o, mode, max_rows, "mem.svm", TSUP_SPARSE, out, err);
}

/* Parses s under every reader mode and batch size; all must agree with the first. */
static int parse_all_modes(const char *s, const ll_parse_opts *o, tsup_rows *out, ll_err *err)
{
    return tsup_parse_all_modes(s, o, "mem.svm", TSUP_SPARSE, out, err);
}

static void basic(void)
{
    ll_err err;
    ll_parse_opts o = tsup_opts(LL_FMT_LIBSVM);
    tsup_rows r;
    CHECK(parse_all_modes("+1 1:0.5 3:2 # comment 9:9\n\n# only a comment\n-1 qid:7 2:1.5\r\n"
                          "0\n2.5e1\t4:-1e-3",
                          &o, &r, &err));
    CHECK(r.nr == 4 && r.nl == 4 && r.nv == 4);
    CHECK(r.lab[0] == 1 && r.lab[1] == -1 && r.lab[2] == 0 && r.lab[3] == 25);
    CHECK(r.ix[0] == 0 && r.ix[1] == 2 && r.ix[2] == 1 && r.ix[3] == 3);
    CHECK(r.v[0] == 0.5f && r.v[1] == 2 && r.v[2] == 1.5f && tsup_feq(r.v[3], -1e-3f));
    /* running shape: largest column + 1 so far */
    CHECK(r.dim[0] == 3 && r.dim[1] == 3 && r.dim[2] == 3 && r.dim[3] == 4);
    tsup_rows_free(&r);
    o.index_base = 0;
    CHECK(parse_all_modes("1 0:1 5:2\n", &o, &r, &err));
    CHECK(r.ix[0] == 0 && r.ix[1] == 5 && r.dim[0] == 6);
    tsup_rows_free(&r);
    o.index_base = 1;
    o.feature_dim = 100;
    CHECK(parse_all_modes("1 1:1 100:2\n0 3:1\n", &o, &r, &err));
    CHECK(r.ix[1] == 99 && r.dim[0] == 100 && r.dim[1] == 100);
    tsup_rows_free(&r);
    CHECK(parse_all_modes("", &o, &r, &err) && r.nr == 0);
    tsup_rows_free(&r);
    /* sniffed without a format */
    o.format = LL_FMT_AUTO;
    CHECK(parse_all_modes("1 1:1\n", &o, &r, &err) && r.nr == 1 && r.nv == 1);
    tsup_rows_free(&r);
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
        wl[i] = (tsup_rnd() & 1) ? 1.0f : -1.0f;
        l += (size_t)snprintf(s + l, cap - l, "%s", wl[i] > 0 ? "+1" : "-1");
        int n = (int)(tsup_rnd() % 20);
        uint32_t col = 0;
        for (int j = 0; j < n; j++) {
            col += 1 + (uint32_t)(tsup_rnd() % 1000);
            snprintf(tok, sizeof tok, "%.*g", 1 + (int)(tsup_rnd() % 12),
                     (double)(int64_t)tsup_rnd() * 1e-17);
            want[nv] = strtof_l(tok, NULL, cloc);
            wix[nv++] = col - 1;
            l += (size_t)snprintf(s + l, cap - l, "%s%u:%s", (tsup_rnd() & 1) ? " " : "\t", col,
                                  tok);
        }
        l += (size_t)snprintf(s + l, cap - l, "%s", (tsup_rnd() & 1) ? "\n" : " \r\n");
    }
    ll_err err;
    ll_parse_opts o = tsup_opts(LL_FMT_LIBSVM);
    tsup_rows r;
    int ok = parse_all_modes(s, &o, &r, &err) && r.nr == n_rows && r.nv == nv &&
             tsup_same_bytes(r.ix, wix, nv * 4) && tsup_same_bytes(r.lab, wl, n_rows * 4);
    for (size_t k = 0; ok && k < nv; k++)
        ok = tsup_feq(r.v[k], want[k]);
    tsup_rows_free(&r);
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
        tsup_rows r;
        ll_err err;
        ll_err_clear(&err);
        ll_code rc = parse_str(s, strlen(s), o, mode, 2, &r, &err);
        tsup_rows_free(&r);
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
    ll_parse_opts o = tsup_opts(LL_FMT_LIBSVM);
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
        fprintf(f, "%s", (tsup_rnd() & 1) ? "1" : "-1");
        uint32_t col = 0;
        for (int j = 0; j < 12; j++) {
            col += 1 + (uint32_t)(tsup_rnd() % 500);
            uint32_t bits = (uint32_t)tsup_rnd() & 0xBF7FFFFFu;
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
    ll_parse_opts o = tsup_opts(LL_FMT_LIBSVM);
    int same = tsup_files_same(in, &o, out, &o, 2000, 1);
    unlink(in);
    unlink(pbr);
    unlink(out);
    rmdir(dir);
    CHECK(same);
}

static void out_of_memory(void)
{
    static const char s[] = "1 1:2 3:4\n-1 2:5\n1 7:1 8:2 9:3\n0\n";
    ll_parse_opts o = tsup_opts(LL_FMT_LIBSVM);
    CHECK(tsup_parse_oom(s, sizeof s - 1, &o, "oom.svm", 4));
}

/* LIBSVM of n rows with comments, qid, blank lines and a dimension that grows now and then. */
static char *gen_svm(size_t n, size_t *len)
{
    size_t cap = n * 200 + 64, k = 0;
    char *s = malloc(cap);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = tsup_rnd();
        if (r % 9 == 0)
            k += (size_t)sprintf(s + k, "# a comment\n");
        if (r % 13 == 0)
            k += (size_t)sprintf(s + k, "  \n");
        k += (size_t)sprintf(s + k, "%d", (int)(tsup_rnd() % 2));
        if (r % 4 == 0)
            k += (size_t)sprintf(s + k, " qid:%d", (int)(r % 100));
        unsigned col = 1 + (unsigned)(tsup_rnd() % 5);
        unsigned top = r % 17 == 0 ? 50 + (unsigned)(i % 1000) : 30;
        while (col < top) {
            k += (size_t)sprintf(s + k, " %u:%.9g", col,
                                 (double)(int64_t)(tsup_rnd() % 200001 - 100000) / 331.0);
            col += 1 + (unsigned)(tsup_rnd() % 9);
        }
        if (r % 6 == 0)
            k += (size_t)sprintf(s + k, " # trailing");
        if (r % 5 == 0)
            s[k++] = '\r';
        s[k++] = '\n';
    }
    s[k] = 0;
    *len = k;
    return s;
}

/* The same rows (dimensions too), batches and messages for every thread count and chunk
 * size (parse_mt.c). */
static void threads_same(void)
{
    ll_parse_opts o = tsup_opts(LL_FMT_LIBSVM);
    ll_code rc;
    char msg[1024];
    size_t n;
    char *s = gen_svm(300, &n);
    CHECK(tsup_mt_same(s, n, &o, "mem.svm", &rc, msg, sizeof msg) && rc == LL_OK);
    s[n - 1] = ' '; /* a last line without a newline */
    CHECK(tsup_mt_same(s, n, &o, "mem.svm", &rc, msg, sizeof msg) && rc == LL_OK);
    o.feature_dim = 2000;
    CHECK(tsup_mt_same(s, n, &o, "mem.svm", &rc, msg, sizeof msg) && rc == LL_OK);
    o.feature_dim = 0;
    /* the first error in input order wins, located as on one thread */
    char *a = strchr(s + n / 2, ':'), *b = strchr(s + 3 * n / 4, ':');
    *a = ';';
    *b = ';';
    CHECK(tsup_mt_same(s, n, &o, "mem.svm", &rc, msg, sizeof msg) && rc == LL_E_PARSE);
    uint64_t line = 1;
    for (const char *q = s; q < a; q++)
        line += *q == '\n';
    char want[64];
    snprintf(want, sizeof want, "mem.svm:%llu:", (unsigned long long)line);
    CHECKF(strstr(msg, want) && strstr(msg, "'index:value'"), "%s (want %s)", msg, want);
    free(s);
    s = gen_svm(100, &n);
    o.feature_dim = 40; /* an index beyond it somewhere */
    CHECK(tsup_mt_same(s, n, &o, "mem.svm", &rc, msg, sizeof msg) && rc == LL_E_PARSE);
    CHECKF(strstr(msg, "outside feature_dim 40"), "%s", msg);
    free(s);
}

int main(void)
{
    TT_BEGIN("libsvm");
    cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    RUN(basic);
    RUN(exact_values);
    RUN(errors);
    RUN(convert_round_trip);
    RUN(threads_same);
    RUN(out_of_memory);
    freelocale(cloc);
    TT_END();
}
