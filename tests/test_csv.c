/* SPDX-License-Identifier: Apache-2.0 */
/* test_csv.c - the CSV parser through ll_parser: values bit-exact against strtof, records
 * straddling reads (1-byte and random-size readers), quoting, CRLF, header, tab, label
 * column, errors with their locations, CSV -> RecordIO -> CSV, out-of-memory loop. */
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
#include <sys/stat.h>
#include <unistd.h>

static locale_t cloc;

/* Parses s with options o through reader mode `mode` (support_rows.h) in batches of max_rows,
 * named "mem.csv" for the error messages. */
static ll_code parse_str(const char *s, size_t len, const ll_parse_opts *o, int mode,
                         size_t max_rows, tsup_rows *out, ll_err *err)
{
    return tsup_parse(s, len, o, mode, max_rows, "mem.csv", TSUP_DENSE, out, err);
}

/* Parses s under every reader mode and batch size; all must agree with the first. */
static int parse_all_modes(const char *s, const ll_parse_opts *o, tsup_rows *out, ll_err *err)
{
    return tsup_parse_all_modes(s, o, "mem.csv", TSUP_DENSE, out, err);
}

static void basic(void)
{
    ll_err err;
    ll_parse_opts o = tsup_opts(LL_FMT_CSV);
    tsup_rows r;
    CHECK(parse_all_modes("1,2.5,3\n0,4,-5e-3\n", &o, &r, &err));
    CHECK(r.nr == 2 && r.nl == 2 && r.nv == 4);
    CHECK(r.lab[0] == 1 && r.lab[1] == 0);
    CHECK(r.v[0] == 2.5f && r.v[1] == 3 && r.v[2] == 4 && tsup_feq(r.v[3], -5e-3f));
    CHECK(r.dim[0] == 2 && r.dim[1] == 2);
    tsup_rows_free(&r);
    /* the batch is marked dense with the row width */
    ll_reader *rd = ll_reader_mem("1,2,3\n4,5,6\n", 12, "x");
    ll_parser *p;
    CHECK_OK(ll_parser_new(rd, &o, &p, &err));
    ll_batch b;
    ll_batch_init(&b);
    int eof;
    CHECK_OK(ll_parser_next(p, &b, 10, &eof, &err));
    CHECK(b.n_rows == 2 && b.dense && b.width == 2 && b.idx != NULL);
    CHECK(ll_parser_rows(p) == 2);
    ll_batch_deinit(&b);
    ll_parser_free(p);
    ll_reader_free(rd);
}

static void layout_variants(void)
{
    ll_err err;
    ll_parse_opts o = tsup_opts(LL_FMT_CSV);
    tsup_rows r;
    /* CRLF, blank lines, spaces, last line without newline */
    CHECK(parse_all_modes("\r\n1, 2 ,3\r\n\r\n  \n0,4,5\r\n\n7,8,9", &o, &r, &err));
    CHECK(r.nr == 3 && r.v[0] == 2 && r.v[5] == 9 && r.lab[2] == 7);
    tsup_rows_free(&r);
    /* header */
    o.header = 1;
    CHECK(parse_all_modes("label,\"a,b\",c\n1,2,3\n", &o, &r, &err));
    CHECK(r.nr == 1 && r.lab[0] == 1 && r.v[1] == 3);
    tsup_rows_free(&r);
    o.header = 0;
    /* tab detection and explicit tab */
    CHECK(parse_all_modes("1\t2\t3\n4\t5\t6\n", &o, &r, &err));
    CHECK(r.nr == 2 && r.v[3] == 6);
    tsup_rows_free(&r);
    o.delimiter = '\t';
    CHECK(parse_all_modes("1\t2\n", &o, &r, &err));
    CHECK(r.nr == 1 && r.v[0] == 2);
    tsup_rows_free(&r);
    o.delimiter = 0;
    /* label column in the middle, and no label */
    o.label_column = 1;
    CHECK(parse_all_modes("5,1,6\n7,0,8\n", &o, &r, &err));
    CHECK(r.nl == 2 && r.lab[0] == 1 && r.lab[1] == 0 && r.v[0] == 5 && r.v[3] == 8);
    tsup_rows_free(&r);
    o.label_column = -1;
    CHECK(parse_all_modes("5,1,6\n", &o, &r, &err));
    CHECK(r.nl == 0 && r.nv == 3 && r.dim[0] == 3);
    tsup_rows_free(&r);
    o.label_column = 0;
    /* a byte order mark, quoted fields with escapes and newlines, nan/inf */
    CHECK(parse_all_modes("\xEF\xBB\xBF\"1\",\" 2.5 \",\"3\n\"\n0,nan,-inf\n", &o, &r, &err));
    CHECK(r.nr == 2 && r.v[0] == 2.5f && r.v[1] == 3 && r.v[2] != r.v[2] && r.v[3] < -1e38f);
    tsup_rows_free(&r);
    /* empty input and blank-only input */
    CHECK(parse_all_modes("", &o, &r, &err) && r.nr == 0);
    tsup_rows_free(&r);
    CHECK(parse_all_modes("\n\n \r\n", &o, &r, &err) && r.nr == 0);
    tsup_rows_free(&r);
    /* a label-only file */
    CHECK(parse_all_modes("1\n0\n", &o, &r, &err) && r.nr == 2 && r.nv == 0 && r.dim[1] == 0);
    tsup_rows_free(&r);
}

/* Random numbers in many spellings, checked bit-exactly against strtof_l. */
static void exact_values(void)
{
    size_t n_rows = 400, n_cols = 7, cap = n_rows * n_cols * 40 + 1;
    char *s = malloc(cap), tok[64];
    float *want = malloc(n_rows * n_cols * sizeof *want);
    size_t l = 0;
    for (size_t i = 0; i < n_rows; i++) {
        for (size_t j = 0; j < n_cols; j++) {
            uint64_t r = tsup_rnd();
            switch (r % 4) {
            case 0:
                snprintf(tok, sizeof tok, "%.*g", 1 + (int)(r >> 8) % 17,
                         ((double)(int64_t)tsup_rnd()) * 1e-15);
                break;
            case 1:
                snprintf(tok, sizeof tok, "%.*e", (int)(r >> 8) % 12,
                         (double)(tsup_rnd() % 100000) * 1e-40);
                break;
            case 2:
                snprintf(tok, sizeof tok, "%lld", (long long)(tsup_rnd() % 100000000000ull));
                break;
            default:
                snprintf(tok, sizeof tok, "-0.%09llu",
                         (unsigned long long)(tsup_rnd() % 1000000000));
            }
            want[i * n_cols + j] = strtof_l(tok, NULL, cloc);
            l += (size_t)snprintf(s + l, cap - l, "%s%s", j ? "," : "", tok);
        }
        s[l++] = (tsup_rnd() & 1) ? '\n' : '\r', s[l] = 0;
        if (s[l - 1] == '\r')
            s[l++] = '\n', s[l] = 0;
    }
    ll_err err;
    ll_parse_opts o = tsup_opts(LL_FMT_CSV);
    tsup_rows r;
    int ok = parse_all_modes(s, &o, &r, &err);
    if (ok) {
        for (size_t i = 0; i < n_rows && ok; i++) {
            ok = tsup_feq(r.lab[i], want[i * n_cols]);
            for (size_t j = 1; j < n_cols && ok; j++)
                ok = tsup_feq(r.v[i * (n_cols - 1) + j - 1], want[i * n_cols + j]);
        }
    }
    tsup_rows_free(&r);
    free(s);
    free(want);
    CHECK(ok);
}

/* Expects a parse error whose message contains `msg` at line/column/offset. */
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
            !(err.has & LL_ERR_LINE) || (col && err.column != col) || err.offset != off ||
            !(err.has & LL_ERR_OFFSET) || strncmp(buf, "mem.csv:", 8) != 0) {
            fprintf(stderr, "  mode %d: rc %d '%s' (want '%s' at %llu:%llu byte %llu)\n", mode,
                    (int)rc, buf, msg, (unsigned long long)line, (unsigned long long)col,
                    (unsigned long long)off);
            return 0;
        }
    }
    return 1;
}

/* Long inputs, so the fast row path (known width, plain numbers, >= 32 bytes left) runs, with
 * every kind of field that must send a row back to the general path mixed in: blanks, quotes,
 * CRLF, exponents, '+', long digit runs, hex, inf; under every label column setting. */
static void fast_path_mix(void)
{
    static const int labs[] = {0, 4, -1};
    for (int li = 0; li < 3; li++) {
        size_t n_rows = 1500, n_cols = 9, cap = n_rows * n_cols * 48 + 1;
        char *s = malloc(cap), tok[64], fld[80];
        float *want = malloc(n_rows * n_cols * sizeof *want);
        size_t l = 0;
        for (size_t i = 0; i < n_rows; i++) {
            int plain_row = tsup_rnd() % 4 != 0;
            for (size_t j = 0; j < n_cols; j++) {
                uint64_t r = tsup_rnd();
                int kind = plain_row ? (int)(r % 3) : (int)(r % 12);
                switch (kind) {
                case 0:
                    snprintf(tok, sizeof tok, "%.*f", (int)(r >> 8) % 8,
                             ((double)(int64_t)(tsup_rnd() % 2000000001) - 1e9) * 1e-6);
                    break;
                case 1:
                    snprintf(tok, sizeof tok, "%lld", (long long)(tsup_rnd() % 1000000000ull));
                    break;
                case 2:
                    snprintf(tok, sizeof tok, "%s0.%0*llu", (r >> 8) & 1 ? "-" : "",
                             1 + (int)(r >> 9) % 7, (unsigned long long)(tsup_rnd() % 10000000));
                    break;
                case 3:
                    snprintf(tok, sizeof tok, "%.*e", (int)(r >> 8) % 9,
                             (double)(tsup_rnd() % 100000) * 1e-30);
                    break;
                case 4:
                    snprintf(tok, sizeof tok, "+%.3f", (double)(tsup_rnd() % 100000) * 1e-2);
                    break;
                case 5:
                    snprintf(tok, sizeof tok, "0.%012llu",
                             (unsigned long long)tsup_rnd() % 1000000000000ull);
                    break;
                case 6:
                    snprintf(tok, sizeof tok, "%llu.5",
                             (unsigned long long)tsup_rnd() % 100000000000ull);
                    break;
                case 7:
                    snprintf(tok, sizeof tok, "%s", (r >> 8) & 1 ? "-inf" : "0x1.8p3");
                    break;
                default:
                    snprintf(tok, sizeof tok, "%.5g", (double)(tsup_rnd() % 100000) * 1e-3);
                }
                want[i * n_cols + j] = strtof_l(tok, NULL, cloc);
                if (kind == 8)
                    snprintf(fld, sizeof fld, " %s ", tok);
                else if (kind == 9)
                    snprintf(fld, sizeof fld, "\"%s\"", tok);
                else
                    snprintf(fld, sizeof fld, "%s", tok);
                l += (size_t)snprintf(s + l, cap - l, "%s%s", j ? "," : "", fld);
            }
            if (!plain_row && tsup_rnd() % 3 == 0)
                s[l++] = '\r';
            s[l++] = '\n';
            s[l] = 0;
        }
        ll_err err;
        ll_parse_opts o = tsup_opts(LL_FMT_CSV);
        o.label_column = labs[li];
        tsup_rows r;
        int ok = parse_all_modes(s, &o, &r, &err);
        if (ok) {
            ok = r.nr == n_rows && r.nl == (labs[li] >= 0 ? n_rows : 0);
            size_t per = labs[li] >= 0 ? n_cols - 1 : n_cols;
            for (size_t i = 0; i < n_rows && ok; i++) {
                size_t k = 0;
                for (size_t j = 0; j < n_cols && ok; j++) {
                    if ((int)j == labs[li])
                        ok = tsup_feq(r.lab[i], want[i * n_cols + j]);
                    else
                        ok = tsup_feq(r.v[i * per + k++], want[i * n_cols + j]);
                    if (!ok)
                        fprintf(stderr, "  row %zu col %zu differs\n", i, j);
                }
            }
        }
        tsup_rows_free(&r);
        free(s);
        free(want);
        CHECKF(ok, "label column %d", labs[li]);
    }
}

/* Errors after enough good rows that the fast row path is the one that meets them. */
static void fast_path_errors(void)
{
    const char *row = "1,-0.504393,2.15608,0.555753,1.07625\n"; /* 37 bytes */
    char s[4096];
    size_t l = 0;
    for (int i = 0; i < 50; i++)
        l += (size_t)snprintf(s + l, sizeof s - l, "%s", row);
    const uint64_t off = l;
    static const struct {
        const char *bad;
        const char *msg;
        uint64_t col, at;
    } cases[] = {
        {"1,-0.504393,2.15608,0.555753,1.07625,7\n", "expected 5 fields, got 6", 6, 37},
        {"1,-0.504393,2.15608,0.555753\n", "expected 5 fields, got 4", 4, 28},
        {"1,-0.504393,2.15608x,0.555753,1.07625\n", "found '2.15608x'", 3, 12},
        {"1,-0.504393,,0.555753,1.07625\n", "empty field", 3, 12},
        {"1,-0.504393,-,0.555753,1.07625\n", "found '-'", 3, 12},
        {"1,-0.504393,1.5.5,0.555753,1.07625\n", "found '1.5.5'", 3, 12},
    };
    ll_parse_opts o = tsup_opts(LL_FMT_CSV);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        snprintf(s + l, sizeof s - l, "%s%s%s", cases[c].bad, row, row);
        CHECKF(expect_error(s, &o, cases[c].msg, 51, cases[c].col, off + cases[c].at), "case %zu",
               c);
    }
}

static void errors(void)
{
    ll_parse_opts o = tsup_opts(LL_FMT_CSV);
    CHECK(expect_error("1,2\n3,abc\n", &o, "expected a number, found 'abc'", 2, 2, 6));
    CHECK(expect_error("1,2\n3,1.5x,4\n", &o, "found '1.5x'", 2, 2, 6));
    CHECK(expect_error("1,2,3\n4,5\n", &o, "expected 3 fields, got 2", 2, 2, 9));
    CHECK(expect_error("1,2\n\n4,5,6,7\n", &o, "expected 2 fields, got 4", 3, 3, 9));
    CHECK(expect_error("1,,3\n", &o, "empty field", 1, 2, 2));
    CHECK(expect_error("1,2,\n", &o, "empty field", 1, 3, 4));
    CHECK(expect_error("1,2\n3,\"4\n", &o, "unterminated quoted field", 2, 2, 6));
    CHECK(expect_error("1,2\n3,\"4\"x\n", &o, "after a closing quote", 2, 2, 9));
    CHECK(expect_error("1,\"2\n\",3\n1,2,z\n", &o, "found 'z'", 3, 3, 13));
    CHECK(expect_error("1,2\n3,4\nfoo", &o, "found 'foo'", 3, 1, 8));
    o.label_column = 3;
    CHECK(expect_error("1,2\n", &o, "label column 4", 1, 0, 0));
    o.label_column = 0;
    o.header = 1;
    CHECK(expect_error("a,b\n1,2\n3,q\n", &o, "found 'q'", 3, 2, 10));
}

/* With ll_parse_opts.finite (training), NaN and infinities are refused where they stand, in the
 * fast row path and the general one, quoted or not; without it they are read. A NUL byte in a
 * number is shown, not taken for the end of the text. */
static void non_finite(void)
{
    ll_parse_opts o = tsup_opts(LL_FMT_CSV);
    tsup_rows r;
    ll_err err;
    CHECK(parse_all_modes("1,nan,2\n0,1e999,-inf\n", &o, &r, &err) && r.nv == 4);
    tsup_rows_free(&r);
    o.finite = 1;
    CHECK(expect_error("1,2,3\n0,nan,1\n", &o, "expected a finite number", 2, 2, 8));
    CHECK(expect_error("1,2,3\n0,1,1e999\n", &o, "found '1e999'", 2, 3, 10));
    CHECK(expect_error("1,2,3\n-inf,1,2\n", &o, "expected a finite number", 2, 1, 6));
    CHECK(expect_error("1,2,3\n0,\"NaN\",1\n", &o, "expected a finite number", 2, 2, 8));
    o.header = 1;
    CHECK(expect_error("a,b\n\n1,2\n\n\nInfinity,3\n", &o, "found 'Infinity'", 6, 1, 11));
    o.header = 0;
    /* long rows: the fast path meets them */
    const char *row = "1,-0.504393,2.15608,0.555753,1.07625\n";
    char s[4096];
    size_t l = 0;
    for (int i = 0; i < 50; i++)
        l += (size_t)snprintf(s + l, sizeof s - l, "%s", row);
    snprintf(s + l, sizeof s - l, "1,-0.504393,NaN,0.555753,1.07625\n%s%s", row, row);
    CHECK(expect_error(s, &o, "found 'NaN'", 51, 3, l + 12));
    snprintf(s + l, sizeof s - l, "1,-0.504393,2e99,0.555753,1.07625\n%s%s", row, row);
    CHECK(expect_error(s, &o, "found '2e99'", 51, 3, l + 12));
    CHECK(parse_all_modes("1,3e38,2\n0,-3e38,1e-45\n", &o, &r, &err) && r.nv == 4);
    tsup_rows_free(&r);
    /* a NUL byte inside a number */
    static const char nul[] = "1,2\n3,4\0005,6\n";
    tsup_rows rr;
    ll_err e2;
    ll_code rc = parse_str(nul, sizeof nul - 1, &o, 0, 10, &rr, &e2);
    tsup_rows_free(&rr);
    CHECKF(rc == LL_E_PARSE && strstr(e2.msg, "found '4\\x005'") && e2.line == 2, "rc %d: %s",
           (int)rc, e2.msg);
}

/* CSV -> RecordIO -> CSV through ll_convert on temp files. */
static void convert_round_trip(void)
{
    char dir[] = "/tmp/ll_csv_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char in[128], pbr[128], out[128];
    snprintf(in, sizeof in, "%s/in.csv", dir);
    snprintf(pbr, sizeof pbr, "%s/mid.pbr", dir);
    snprintf(out, sizeof out, "%s/out.csv", dir);
    FILE *f = fopen(in, "w");
    CHECK(f != NULL);
    for (int i = 0; i < 3000; i++) {
        fprintf(f, "%d", (int)(tsup_rnd() % 2));
        for (int j = 0; j < 9; j++) {
            uint32_t bits = (uint32_t)tsup_rnd() & 0xBF7FFFFFu; /* finite, moderate */
            float v;
            memcpy(&v, &bits, 4);
            fprintf(f, ",%.9g", (double)v);
        }
        fprintf(f, "\n");
    }
    fclose(f);
    ll_err err;
    ll_convert_opts co;
    ll_convert_opts_init(&co);
    uint64_t n = 0;
    CHECK_OK(ll_convert(in, pbr, &co, &n, &err));
    CHECK(n == 3000);
    ll_convert_opts_init(&co);
    CHECK_OK(ll_convert(pbr, out, &co, &n, &err));
    CHECK(n == 3000);
    ll_parse_opts o = tsup_opts(LL_FMT_CSV);
    int same = tsup_files_same(in, &o, out, &o, 3000, 0);
    /* the shortest spelling is never longer than %.9g */
    struct stat s1, s2;
    int shorter = stat(in, &s1) == 0 && stat(out, &s2) == 0 && s2.st_size <= s1.st_size;
    unlink(in);
    unlink(pbr);
    unlink(out);
    rmdir(dir);
    CHECK(same);
    CHECK(shorter);
}

/* Fails the Nth allocation for N = 1.. until a run the hook does not reach; every run must
 * succeed or report LL_E_NOMEM (support_rows.c; ASan checks nothing leaks). */
static void out_of_memory(void)
{
    static const char s[] = "1,2,\"3\"\n4,5,6\n7,8,9\n1,2,3\n4,5,6\n";
    ll_parse_opts o = tsup_opts(LL_FMT_CSV);
    CHECK(tsup_parse_oom(s, sizeof s - 1, &o, "oom.csv", 5));
}

/* A CSV of n rows of w values in assorted spellings, with blank lines, CRLF and spaces. */
static char *gen_csv(size_t n, int w, char delim, size_t *len)
{
    size_t cap = n * (size_t)(w + 1) * 24 + 64, k = 0;
    char *s = malloc(cap);
    static const char *sp[] = {"1",
                               "-0.5",
                               "3.25e-3",
                               "12345678",
                               "0",
                               "-7e+2",
                               "0.1",
                               ".5",
                               "2.",
                               "1e-40",
                               "340282346638528859811704183484516925440"};
    for (size_t i = 0; i < n; i++) {
        uint64_t r = tsup_rnd();
        if (r % 7 == 0)
            s[k++] = '\n'; /* a blank line */
        if (r % 11 == 0)
            k += (size_t)sprintf(s + k, "  \r\n");
        for (int j = 0; j <= w; j++) {
            if (j)
                s[k++] = delim;
            if (j == 0)
                k += (size_t)sprintf(s + k, "%d", (int)(tsup_rnd() % 2));
            else if (tsup_rnd() % 3 == 0)
                k += (size_t)sprintf(s + k, "%s", sp[tsup_rnd() % (sizeof sp / sizeof *sp)]);
            else
                k += (size_t)sprintf(s + k, "%.9g",
                                     (double)(int64_t)(tsup_rnd() % 2000001 - 1000000) / 997.0);
        }
        if (r % 5 == 0)
            s[k++] = '\r';
        s[k++] = '\n';
    }
    s[k] = 0;
    *len = k;
    return s;
}

/* The same rows, batches and messages for every thread count and chunk size (parse_mt.c). */
static void threads_same(void)
{
    ll_parse_opts o = tsup_opts(LL_FMT_CSV);
    ll_code rc;
    char msg[1024];
    size_t n;
    char *s = gen_csv(300, 5, ',', &n);
    CHECK(tsup_mt_same(s, n, &o, "mem.csv", &rc, msg, sizeof msg) && rc == LL_OK);
    s[n - 1] = '7'; /* a last line without a newline */
    CHECK(tsup_mt_same(s, n, &o, "mem.csv", &rc, msg, sizeof msg) && rc == LL_OK);
    /* header, a label in column 2, tab */
    free(s);
    s = gen_csv(200, 3, '\t', &n);
    memcpy(s, "h\th\th\th", 7); /* the first row becomes the header */
    o.header = 1;
    o.label_column = 2;
    CHECK(tsup_mt_same(s, n, &o, "mem.csv", &rc, msg, sizeof msg) && rc == LL_OK);
    o.header = 0;
    o.label_column = 0;
    free(s);
    /* errors: the first in input order wins, with the one-thread location */
    s = gen_csv(300, 4, ',', &n);
    char *second = strchr(s + n / 2, '\n') + 1, *third = strchr(s + 3 * n / 4, '\n') + 1;
    *second = 'x'; /* a bad number ... */
    *third = '#';  /* ... and a later one */
    CHECK(tsup_mt_same(s, n, &o, "mem.csv", &rc, msg, sizeof msg) && rc == LL_E_PARSE);
    CHECKF(strstr(msg, "found 'x"), "%s", msg);
    uint64_t line = 1;
    for (const char *q = s; q < second; q++)
        line += *q == '\n';
    char want[64];
    snprintf(want, sizeof want, "mem.csv:%llu:1 ", (unsigned long long)line);
    CHECKF(strstr(msg, want), "%s (want %s)", msg, want);
    free(s);
    /* a row of the wrong width far from the start; a NaN refused with finite */
    s = gen_csv(200, 4, ',', &n);
    char *at = strchr(s + n / 3, '\n') + 1;
    while (*at == '\n' || *at == ' ' || *at == '\r')
        at++;
    *strchr(at, ',') = '\n';
    CHECK(tsup_mt_same(s, n, &o, "mem.csv", &rc, msg, sizeof msg) && rc == LL_E_PARSE);
    CHECKF(strstr(msg, "expected 5 fields"), "%s", msg);
    free(s);
    s = gen_csv(200, 4, ',', &n);
    at = strchr(s + n / 2, ',') + 1;
    memcpy(at, "nan", 3);
    at[3] = at[3] == ',' || at[3] == '\n' ? at[3] : ' ';
    o.finite = 1;
    CHECK(tsup_mt_same(s, n, &o, "mem.csv", &rc, msg, sizeof msg) && rc == LL_E_PARSE);
    o.finite = 0;
    CHECK(tsup_mt_same(s, n, &o, "mem.csv", &rc, msg, sizeof msg));
    free(s);
    /* a quoted field (with a newline inside) late in the input: the rest on one thread */
    s = gen_csv(200, 2, ',', &n);
    char *big = malloc(n + 64);
    at = strchr(s + n / 2, '\n') + 1;
    size_t k = (size_t)(at - s);
    memcpy(big, s, k);
    k += (size_t)sprintf(big + k, "1,\"2\n\",\"3\"\n");
    memcpy(big + k, at, n - (size_t)(at - s));
    k += n - (size_t)(at - s);
    CHECK(tsup_mt_same(big, k, &o, "mem.csv", &rc, msg, sizeof msg) && rc == LL_OK);
    free(big);
    free(s);
    /* wide rows (lines longer than the chunk), then one longer than max_record_len */
    s = malloc(64 * 1024);
    k = 0;
    for (int i = 0; i < 12; i++) {
        for (int j = 0; j < 300; j++)
            k += (size_t)sprintf(s + k, j ? ",%d" : "%d", (i + j) % 2);
        if (i == 8) { /* row 9 ends in a number of 3000 digits */
            k += (size_t)sprintf(s + k, ".");
            memset(s + k, '0', 2999);
            k += 2999;
            s[k++] = '1';
        }
        s[k++] = '\n';
    }
    CHECK(tsup_mt_same(s, k, &o, "mem.csv", &rc, msg, sizeof msg) && rc == LL_OK);
    o.max_record_len = 2048;
    CHECK(tsup_mt_same(s, k, &o, "mem.csv", &rc, msg, sizeof msg) && rc == LL_E_TOOBIG);
    CHECKF(strstr(msg, "longer than 2048 bytes") && strstr(msg, "mem.csv:9 "), "%s", msg);
    free(s);
}

int main(void)
{
    TT_BEGIN("csv");
    cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    RUN(basic);
    RUN(layout_variants);
    RUN(exact_values);
    RUN(errors);
    RUN(non_finite);
    RUN(fast_path_mix);
    RUN(fast_path_errors);
    RUN(convert_round_trip);
    RUN(threads_same);
    RUN(out_of_memory);
    freelocale(cloc);
    TT_END();
}
