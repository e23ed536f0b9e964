/* SPDX-License-Identifier: Apache-2.0 */
/* test_fnum.c - ll_str_to_f32 against strtof_l (C locale) on random and edge strings, and
 * ll_f32_to_str round trips and shortness over random bit patterns and edge values.
 * FNUM_SCALE (default 1; lower under sanitizers) scales the iteration counts. */
#include "linlearn.h"
#include "tt.h"
#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static locale_t cloc;
static uint64_t rs = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static long iters(long base)
{
    const char *s = getenv("FNUM_SCALE");
    double k = s ? atof(s) : (SANITIZED ? 0.1 : 1.0);
    long n = (long)(base * k);
    return n < 1000 ? 1000 : n;
}

static int same(float a, float b)
{
    if (isnan(a) && isnan(b))
        return 1;
    return memcmp(&a, &b, 4) == 0;
}

/* Compares ll_str_to_f32 with strtof_l on s (value and length used). */
static int check_str(const char *s, size_t len)
{
    char buf[512];
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    float want = strtof_l(buf, &end, cloc);
    size_t want_used = (size_t)(end - buf);
    float got = 12345.0f;
    size_t used = ll_str_to_f32(s, len, &got);
    if (used != want_used || (want_used && !same(got, want))) {
        fprintf(stderr, "  '%s': got %a used %zu, want %a used %zu\n", buf, (double)got, used,
                (double)want, want_used);
        return 0;
    }
    return 1;
}

static void edge_strings(void)
{
    static const char *cases[] = {
        "0",
        "-0",
        "+0",
        "0.0",
        ".5",
        "5.",
        ".",
        "-",
        "+",
        "",
        "e5",
        "1e",
        "1e+",
        "1e-",
        "1e5x",
        "1.5e-3",
        "  7.25",
        "\t-3",
        "\n1",
        "inf",
        "INF",
        "-Infinity",
        "infinit",
        "infinityx",
        "nan",
        "NaN",
        "-nan",
        "nan(123)",
        "nan(abc",
        "NAN()",
        "0x1p3",
        "0X1.8P-1",
        "-0x",
        "0x",
        "1e39",
        "3.4028235e38",
        "3.40282357e38",
        "3.4028236e38",
        "-3.4028236e38",
        "1e-45",
        "7e-46",
        "7.1e-46",
        "1.4e-45",
        "1.401298464324817e-45",
        "7.006492321624085e-46",
        "7.006492321624086e-46",
        "1.17549435e-38",
        "1.1754942e-38",
        "1.1754943e-38",
        "16777217",
        "16777216.5",
        "16777217.000000000000001",
        "33554435",
        "0.1",
        "0.2",
        "0.3",
        "1e-22",
        "1e22",
        "9007199254740993",
        "9007199254740993e-22",
        "123456789012345678901234",
        "0.000000000000000000000000000000000000000000001",
        "00000000000000000001.5",
        "1"
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000000000000000000000000000000000e-200",
        "1e99999999999999999999",
        "1e-99999999999999999999",
        "0e99999999999",
        "-0e-5",
        "4.9406564584124654e-324",
        "1,5",
        "1.5.5",
        "--1",
        "+-1",
        "1e+0005",
        "0.00000001e8"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECKF(check_str(cases[i], strlen(cases[i])), "case %zu", i);
    /* a length limit inside a number must stop the scan there */
    CHECK(check_str("1.25", 3));
    CHECK(check_str("1e10", 2));
    CHECK(check_str("infinity", 5));
    float f;
    CHECK(ll_str_to_f32("2.5e3", 2, &f) == 2 && f == 2.0f);
}

/* Midpoints between adjacent floats (exactly and +/- a tiny bit) must round half-even. */
static void halfway_cases(void)
{
    long n = iters(200000);
    char s[128];
    for (long i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)rnd() & 0x7F7FFFFFu;
        float a, b;
        memcpy(&a, &bits, 4);
        b = nextafterf(a, INFINITY);
        if (isinf(b))
            continue;
        double mid = ((double)a + (double)b) / 2; /* exact in double */
        int k = (int)(rnd() % 3);
        snprintf(s, sizeof s, "%.*e", 60, mid);
        if (k == 1) { /* perturb the last digit upward: just above the midpoint */
            size_t l = strcspn(s, "e");
            s[l - 1] = s[l - 1] == '9' ? '9' : (char)(s[l - 1] + 1);
        } else if (k == 2) {
            snprintf(s, sizeof s, "%.17g", mid);
        }
        CHECK(check_str(s, strlen(s)));
    }
}

static void random_strings(void)
{
    long n = iters(2000000);
    char s[160];
    for (long i = 0; i < n; i++) {
        size_t l = 0;
        uint64_t r = rnd();
        if (r & 1)
            s[l++] = (r & 2) ? '-' : '+';
        int zeros = (r >> 2 & 7) == 0 ? (int)(r >> 5 & 7) : 0;
        for (int z = 0; z < zeros; z++)
            s[l++] = '0';
        int nd = 1 + (int)(rnd() % 20);
        if (rnd() % 50 == 0)
            nd = 20 + (int)(rnd() % 100);
        int dotpos = (int)(rnd() % (nd + 2)) - 1; /* -1: no dot */
        for (int d = 0; d < nd; d++) {
            if (d == dotpos)
                s[l++] = '.';
            s[l++] = (char)('0' + rnd() % 10);
        }
        uint64_t er = rnd();
        if (er % 4 != 0) {
            s[l++] = (er & 4) ? 'e' : 'E';
            if (er & 8)
                s[l++] = (er & 16) ? '-' : '+';
            int ex;
            switch (er >> 5 & 3) {
            case 0:
                ex = (int)(er >> 8) % 10;
                break;
            case 1:
                ex = (int)(er >> 8) % 40;
                break;
            default:
                ex = 30 + (int)(er >> 8) % 30; /* around subnormals and overflow */
            }
            l += (size_t)snprintf(s + l, sizeof s - l, "%d", ex);
        }
        CHECK(check_str(s, l));
    }
}

/* Decimal strings from random float bits: %.9g, %.8g, %.17g and shortest spellings. */
static void printed_floats(void)
{
    long n = iters(500000);
    char s[64];
    for (long i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)rnd();
        float f;
        memcpy(&f, &bits, 4);
        if (isnan(f))
            continue;
        int prec = 1 + (int)(rnd() % 17);
        snprintf(s, sizeof s, "%.*g", prec, (double)f);
        CHECK(check_str(s, strlen(s)));
    }
}

static int roundtrip(float v)
{
    char s[16 + 8];
    memset(s, 'X', sizeof s);
    int n = ll_f32_to_str(v, s);
    if (n <= 0 || n > 15 || s[n] != 0 || (size_t)n != strlen(s)) {
        fprintf(stderr, "  bad length %d for %a\n", n, (double)v);
        return 0;
    }
    float back = strtof_l(s, NULL, cloc);
    if (!same(back, v) && !(isnan(v) && isnan(back))) {
        fprintf(stderr, "  %a printed as '%s' parses to %a\n", (double)v, s, (double)back);
        return 0;
    }
    if (isnan(v) || isinf(v))
        return 1;
    /* shortest: no decimal with one digit fewer round-trips */
    int digits = 0;
    for (const char *p = s; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits++;
    /* leading zeros of "0.000123" are not significant */
    const char *p = s;
    while (*p == '-' || *p == '0' || *p == '.')
        p++;
    int lead = 0;
    for (const char *q = s; q < p; q++)
        lead += *q == '0';
    int sig = digits - lead;
    const char *e = strchr(s, 'e');
    if (!e) { /* trailing zeros of an integer are not significant either */
        const char *dot = strchr(s, '.');
        if (!dot) {
            size_t l = strlen(s);
            while (l > 1 && s[l - 1] == '0' && sig > 1) {
                sig--;
                l--;
            }
        }
    }
    if (sig > 1) {
        char t[64];
        snprintf(t, sizeof t, "%.*e", sig - 2, (double)v);
        float b1 = strtof_l(t, NULL, cloc);
        if (same(b1, v)) {
            fprintf(stderr, "  %a printed as '%s' but '%s' is shorter\n", (double)v, s, t);
            return 0;
        }
    }
    return 1;
}

static void print_edges(void)
{
    float cases[] = {0.0f,
                     -0.0f,
                     1.0f,
                     -1.0f,
                     10.0f,
                     100.0f,
                     0.1f,
                     1e-7f,
                     1e7f,
                     1e10f,
                     FLT_MAX,
                     -FLT_MAX,
                     FLT_MIN,
                     -FLT_MIN,
                     1e-45f,
                     -1e-45f,
                     3e-45f,
                     FLT_EPSILON,
                     16777216.0f,
                     16777215.0f,
                     123456.0f,
                     0.5f,
                     0.25f,
                     1e-4f,
                     1e-5f,
                     9.99999e9f,
                     1e9f,
                     INFINITY,
                     -INFINITY,
                     NAN,
                     1.17549421e-38f,
                     0x1p-140f};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECKF(roundtrip(cases[i]), "case %zu", i);
    char s[16];
    CHECK(ll_f32_to_str(10.0f, s) == 2 && strcmp(s, "10") == 0);
    CHECK(ll_f32_to_str(1e-7f, s) && strcmp(s, "1e-07") == 0);
    CHECK(ll_f32_to_str(FLT_MAX, s) && strcmp(s, "3.4028235e+38") == 0);
    CHECK(ll_f32_to_str(0.1f, s) && strcmp(s, "0.1") == 0);
    CHECK(ll_f32_to_str(-2.5f, s) && strcmp(s, "-2.5") == 0);
    CHECK(ll_f32_to_str(NAN, s) && strcmp(s, "nan") == 0);
    CHECK(ll_f32_to_str(-INFINITY, s) && strcmp(s, "-inf") == 0);
    CHECK(ll_f32_to_str(1e-45f, s) && strcmp(s, "1e-45") == 0);
    CHECK(ll_f32_to_str(123456.0f, s) && strcmp(s, "123456") == 0);
    CHECK(ll_f32_to_str(0.001f, s) && strcmp(s, "0.001") == 0);
    /* every subnormal near the bottom, every float near 1 and FLT_MAX */
    for (uint32_t b = 0; b < 20000; b++) {
        float f;
        memcpy(&f, &b, 4);
        CHECK(roundtrip(f));
        uint32_t b2 = 0x3F800000u - 10000 + b, b3 = 0x7F7FFFFFu - b;
        memcpy(&f, &b2, 4);
        CHECK(roundtrip(f));
        memcpy(&f, &b3, 4);
        CHECK(roundtrip(f));
    }
}

static void print_random(void)
{
    long n = iters(1000000);
    for (long i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)rnd();
        float f;
        memcpy(&f, &bits, 4);
        CHECK(roundtrip(f));
    }
    /* plain short decimals print back as themselves */
    for (long i = 0; i < n / 10; i++) {
        char s[32], o[16];
        snprintf(s, sizeof s, "%.*f", (int)(rnd() % 5), (double)(rnd() % 100000) / 100.0);
        float f = strtof_l(s, NULL, cloc);
        ll_f32_to_str(f, o);
        CHECK(strtof_l(o, NULL, cloc) == f);
        CHECKF(strlen(o) <= strlen(s), "%s -> %s", s, o);
    }
}

int main(void)
{
    TT_BEGIN("fnum");
    cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    RUN(edge_strings);
    RUN(halfway_cases);
    RUN(random_strings);
    RUN(printed_floats);
    RUN(print_edges);
    RUN(print_random);
    freelocale(cloc);
    TT_END();
}
