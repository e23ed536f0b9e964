/* SPDX-License-Identifier: Apache-2.0 */
/* test_float_text.c - ll_str_to_f32 against strtof_l (C locale) on random and edge strings, and
 * ll_f32_to_str round trips and shortness over random bit patterns and edge values, and the
 * printer against a reference copy of the earlier slow method (string for string).
 * FNUM_SCALE (default 1; lower under sanitizers) scales the iteration counts. */
#include "float_text.h"
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

/* ---- the reference printer: the earlier correct-but-slow method, kept here as the oracle ----
 * For each digit count nd (binary search over 1..9) the two nd-digit decimals around |v| are
 * formatted (same layout as the library) and parsed back with strtof_l; the shortest that
 * round-trips wins, the nearer of two first. */
static int ref_format(char *out, int neg, uint64_t dig, int nd, int e10)
{
    char d[20];
    for (int i = nd - 1; i >= 0; i--) {
        d[i] = (char)('0' + dig % 10);
        dig /= 10;
    }
    while (nd > 1 && d[nd - 1] == '0')
        nd--;
    char *o = out;
    if (neg)
        *o++ = '-';
    if (e10 >= -4 && e10 < 10 &&
        (e10 < 0 ? nd - e10 + 1 : (nd > e10 + 1 ? nd + 1 : e10 + 1)) <= 14) {
        if (e10 < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = -1; i > e10; i--)
                *o++ = '0';
            for (int i = 0; i < nd; i++)
                *o++ = d[i];
        } else {
            for (int i = 0; i <= e10; i++)
                *o++ = i < nd ? d[i] : '0';
            if (nd > e10 + 1) {
                *o++ = '.';
                for (int i = e10 + 1; i < nd; i++)
                    *o++ = d[i];
            }
        }
    } else {
        *o++ = d[0];
        if (nd > 1) {
            *o++ = '.';
            for (int i = 1; i < nd; i++)
                *o++ = d[i];
        }
        o += sprintf(o, "e%c%02d", e10 < 0 ? '-' : '+', e10 < 0 ? -e10 : e10);
    }
    *o = 0;
    return (int)(o - out);
}

static uint64_t p10u(int n)
{
    uint64_t r = 1;
    while (n-- > 0)
        r *= 10;
    return r;
}

static int ref_try(float v, int nd, int e10, char *out)
{
    int neg = signbit(v) != 0;
    /* the scaled value in long double (64-bit mantissa): only picks the order of the two */
    long double scaled = fabsl((long double)v) * powl(10.0L, (long double)(nd - 1 - e10));
    long double fl = floorl(scaled);
    uint64_t lo = (uint64_t)fl;
    int up_first = scaled - fl > 0.5L;
    for (int k = 0; k < 2; k++) {
        uint64_t dig = (k == 0) == up_first ? lo + 1 : lo;
        int ex = e10;
        if (dig >= p10u(nd)) {
            dig /= 10;
            ex++;
        }
        if (dig == 0 || dig < p10u(nd - 1))
            continue;
        ref_format(out, neg, dig, nd, ex);
        float back = strtof_l(out, NULL, cloc);
        if (same(back, v))
            return 1;
    }
    return 0;
}

/* finite non-zero v only */
static void ref_print(float v, char *out)
{
    char tmp[32];
    int e10 = (int)floorl(log10l(fabsl((long double)v)));
    if (fabsl((long double)v) < powl(10.0L, (long double)e10))
        e10--;
    else if (fabsl((long double)v) >= powl(10.0L, (long double)(e10 + 1)))
        e10++;
    int lo = 1, hi = 9;
    strcpy(out, "?");
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (ref_try(v, mid, e10, tmp)) {
            strcpy(out, tmp);
            hi = mid - 1;
        } else {
            lo = mid + 1;
        }
    }
}

static int same_as_ref(float v)
{
    char want[32], got[32];
    ref_print(v, want);
    ll_f32_to_str(v, got);
    if (strcmp(want, got) != 0) {
        fprintf(stderr, "  %a: printed '%s', reference '%s'\n", (double)v, got, want);
        return 0;
    }
    return 1;
}

/* The printer against the reference: random bit patterns, every float around powers of ten
 * and two, large integers (bounds that are integers), subnormals and short decimals. */
static void print_vs_reference(void)
{
    long n = iters(1000000), bad = 0;
    for (long i = 0; i < n && bad < 20; i++) {
        uint32_t bits = (uint32_t)rnd() & 0x7FFFFFFFu;
        if (bits >= 0x7F800000u || bits == 0)
            continue;
        float f;
        memcpy(&f, &bits, 4);
        if (rnd() & 1)
            f = -f;
        bad += !same_as_ref(f);
    }
    for (int e = -45; e <= 38 && bad < 20; e++) {
        char s[16];
        snprintf(s, sizeof s, "1e%d", e);
        float c = strtof_l(s, NULL, cloc);
        uint32_t b;
        memcpy(&b, &c, 4);
        for (uint32_t k = b > 300 ? b - 300 : 0; k < b + 300 && k < 0x7F800000u; k++) {
            float f;
            memcpy(&f, &k, 4);
            if (f != 0)
                bad += !same_as_ref(f);
        }
    }
    for (int e = 1; e < 254 && bad < 20; e++) { /* powers of two: asymmetric intervals */
        uint32_t b = (uint32_t)e << 23;
        for (uint32_t k = b - 3; k < b + 3; k++) {
            float f;
            memcpy(&f, &k, 4);
            bad += !same_as_ref(f);
        }
    }
    for (long i = 0; i < n / 10 && bad < 20; i++) {
        /* integers and short decimals, incl. large integral floats */
        float f = (float)(rnd() % 2000000000ull) * (float)(rnd() % 3 == 0 ? 1000 : 1);
        if (f != 0 && !isinf(f))
            bad += !same_as_ref(f);
        char s[32];
        snprintf(s, sizeof s, "%.*e", (int)(rnd() % 9), (double)(rnd() % 1000000007ull) * 1e-3);
        f = strtof_l(s, NULL, cloc) * 1e-3f * (float)(1 + rnd() % 7);
        if (f != 0 && !isinf(f))
            bad += !same_as_ref(f);
    }
    for (uint32_t k = 1; k < 200000 && bad < 20; k += 1 + (uint32_t)(rnd() % 7)) {
        float f; /* subnormals */
        memcpy(&f, &k, 4);
        bad += !same_as_ref(f);
    }
    CHECKF(bad == 0, "%ld mismatches against the reference printer", bad);
}

/* float_text_repr against Python 3's repr() (cases printed by /usr/bin/python3: fixed values
 * around the plain/exponent borders, random bit patterns, random magnitudes). */
static void repr_vs_python(void)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0x1.47ae147ae147bp-8, "0.005"},
        {0x1.a36e2eb1c432dp-14, "0.0001"},
        {0x1.4f8b588e368f1p-17, "1e-05"},
        {0x1.02e4b6ce5dc68p-13, "0.00012345"},
        {0x1.4000000000000p+4, "20.0"},
        {0x1.aaaaaaaaaaaabp+2, "6.666666666666667"},
        {0x1.aaaaaaaaaaaabp+3, "13.333333333333334"},
        {0x1.9000000000000p+6, "100.0"},
        {0x1.1c37937e08000p+53, "1e+16"},
        {0x1.aa535d3d0c000p+53, "1.5e+16"},
        {0x1.1c37937e07fffp+53, "9999999999999998.0"},
        {0x1.c12218377de66p+46, "123456789012345.6"},
        {0x1.3333333333334p-2, "0.30000000000000004"},
        {0x1.5555555555555p-2, "0.3333333333333333"},
        {-0x1.4000000000000p+1, "-2.5"},
        {0x0.0000000000001p-1022, "5e-324"},
        {0x1.fffffffffffffp+1023, "1.7976931348623157e+308"},
        {0x1.46bd1b5a45008p-1, "0.6381615207378681"},
        {0x1.12b521f23f90ap+12, "4395.320787666607"},
        {0x1.e000000000000p+3, "15.0"},
        {0x1.0000000000000p+53, "9007199254740992.0"},
        {0x1.0f0cf064dd592p+73, "1e+22"},
        {0x1.0c6f7a0b5ed8dp-23, "1.25e-07"},
        {-0x1.a36e2eb1c432dp-14, "-0.0001"},
        {0x1.fae147ae147aep-1, "0.99"},
        {0x1.84c745bfe2d98p+13, "12440.9090574"},
        {0x1.0000000000000p-1, "0.5"},
        {0x1.0000000000000p+0, "1.0"},
        {-0x1.74de452e6b438p+811, "-1.989032661366619e+244"},
        {0x1.3270e269e0d37p+594, "7.761117632285041e+178"},
        {0x1.c7fd0a6a3a450p-826, "3.980498358697587e-249"},
        {-0x1.f0824128b2f33p+292, "-1.5432835417340557e+88"},
        {0x1.8e811892f902bp-638, "1.3647584518757569e-192"},
        {-0x1.1985d5d9dc9f8p-684, "-1.3701135617873088e-206"},
        {-0x1.25d940ed90475p+655, "-1.7160537630466207e+197"},
        {0x1.675cc81e74ef5p-144, "6.294675241195386e-44"},
        {0x1.0a35a099950d8p-671, "1.0613447212142254e-202"},
        {0x1.d549b6f03675ap+689, "4.708325160387546e+207"},
        {0x1.c172411e20b8fp-38, "6.387016158513563e-12"},
        {-0x1.16ece1738f7d9p-814, "-9.973130378568733e-246"},
        {0x1.1ddb66cad4a26p-781, "8.779753225680271e-236"},
        {-0x1.192cfd3ac94afp-755, "-5.795503248498993e-228"},
        {-0x1.c105d1fb17c23p+809, "-5.988180159386011e+243"},
        {-0x1.0b33839263059p-488, "-1.306052388527796e-147"},
        {-0x1.f48f1a09f76b5p-684, "-2.436117699484841e-206"},
        {0x1.630f1f29d0da9p-770, "2.233386999150174e-232"},
        {-0x1.60af593bd04cfp-673, "-3.51527970626667e-203"},
        {0x1.1e29c658cda14p-820, "1.5987381841032883e-247"},
        {0x1.8d190f9ebdaccp-118, "4.6678633181812096e-36"},
        {-0x1.1973e0becd7b0p-791, "-8.441872792105456e-239"},
        {0x1.7beaddbc496cbp-478, "1.9015657400796622e-144"},
        {0x1.cb2424a23d596p+693, "7.370437700706684e+208"},
        {-0x1.a63ec24ede6a4p-857, "-1.7163996725272777e-258"},
        {-0x1.766581e27a1c0p-733, "-3.2367190832119987e-221"},
        {-0x1.d05584ef8aa38p-777, "-2.2818334634712625e-234"},
        {-0x1.7ba94d0eda82fp-278, "-3.0536383926309363e-84"},
        {0x1.1dbe22e44158bp-601, "1.3449551894627777e-181"},
        {-0x1.a736994e3bf91p-732, "-7.317495976062606e-221"},
        {0x1.3f74ec8cbdefbp+9, "638.913468926184"},
        {0x1.1b8f6f977e2adp+43, "9743057599473.338"},
        {0x1.af7b886de5837p-28, "6.2788974973323135e-09"},
        {0x1.79d03fba18e19p+22, "6190095.931735539"},
        {0x1.09c7ff503e80cp+16, "68039.99731817859"},
        {0x1.7b8198cca48cap+19, "777228.774980807"},
        {0x1.1deb3ba1dac58p+19, "585561.8635076387"},
        {0x1.283550eb7f030p-5, "0.036158235594456634"},
        {0x1.20fe5ab9a6e47p+46, "79437948152249.11"},
        {0x1.a2aaf7e36c603p-21, "7.798296305842437e-07"},
        {0x1.b64021834f9cfp+25, "57442371.0258671"},
        {0x1.8c17d49783851p+5, "49.511635955525556"},
        {0x1.d2d850f3e81fcp+2, "7.294452894392176"},
        {0x1.46eeb0b66eb85p-21, "6.089590190364036e-07"},
        {0x1.70f49f62f9483p+13, "11806.577825496212"},
        {0x1.07f07a476d9d7p+4, "16.49621036435732"},
        {0x1.730e558bb1bc0p+20, "1519845.3466050476"},
        {0x1.eaebe731dfb8bp+41, "4216983544767.443"},
        {0x1.2819408b92277p+26, "77620482.18079554"},
        {0x1.fcf303a05454cp+58, "5.7302594027738394e+17"},
    };
    char out[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = float_text_repr(cases[i].v, out);
        CHECKF(!strcmp(out, cases[i].want) && n == (int)strlen(out), "repr(%a): got %s, want %s",
               cases[i].v, out, cases[i].want);
    }
    float_text_repr(NAN, out);
    CHECK(!strcmp(out, "nan"));
    float_text_repr(-INFINITY, out);
    CHECK(!strcmp(out, "-inf"));
    float_text_repr(-0.0, out);
    CHECK(!strcmp(out, "-0.0"));
}

/* float_text_fast (the inline fast path of the CSV parser) against ll_str_to_f32: where it takes a
 * number and the next byte is not one of eExX, the same value bits and length; it must take
 * every plain short spelling; it never reads past 32 bytes. */
static void inline_parse(void)
{
    long n = iters(1000000), bad = 0, taken = 0, plain = 0;
    static const char follow[] = ",\n\r \t.eE+-x0\"#:;a";
    char buf[96];
    for (long i = 0; i < n && bad < 20; i++) {
        uint64_t r = rnd();
        size_t l = 0;
        if (r & 1)
            buf[l++] = (r & 2) ? '-' : '+';
        if ((r >> 2 & 15) == 0)
            buf[l++] = '-';
        int ni = (int)(r >> 6) % 11, nf = (int)(r >> 10) % 10, dot = (r >> 14 & 7) != 0;
        for (int k = 0; k < ni; k++)
            buf[l++] = (char)('0' + rnd() % 10);
        if (dot)
            buf[l++] = '.';
        for (int k = 0; k < nf && dot; k++)
            buf[l++] = (char)('0' + rnd() % 10);
        int has_exp = (r >> 17 & 7) == 0;
        if (has_exp)
            l += (size_t)snprintf(buf + l, sizeof buf - l, "e%d", (int)(rnd() % 80) - 40);
        size_t num = l;
        char nx = follow[rnd() % (sizeof follow - 1)];
        buf[l++] = nx;
        while (l < 32) /* the rest of a line */
            buf[l++] = (char)('0' + rnd() % 10);
        float a = 1, b = 2;
        size_t ka = float_text_fast(buf, &a), kb = ll_str_to_f32(buf, l, &b);
        int sign_ok = buf[0] != '+' && !(buf[0] == '-' && buf[1] == '-');
        int is_plain = sign_ok && !has_exp && ni >= 1 && ni <= 8 && (!dot || nf <= 7) &&
                       !((nx == '.' || (nx >= '0' && nx <= '9')) && !(dot && nf > 0)) && nx != '.';
        plain += is_plain;
        if (ka) {
            taken++;
            char t = buf[ka];
            if ((t >= '0' && t <= '9') || (t == '.' && !memchr(buf, '.', ka))) {
                fprintf(stderr, "  '%.*s': stopped before '%c'\n", (int)num, buf, t);
                bad++;
            } else if (!strchr("eExX", t) && (ka != kb || !same(a, b))) {
                fprintf(stderr, "  '%.*s': inline %a (%zu), ll_str_to_f32 %a (%zu)\n", (int)num,
                        buf, (double)a, ka, (double)b, kb);
                bad++;
            }
        }
    }
    CHECKF(bad == 0, "%ld mismatches", bad);
    /* it must take nearly all the plain spellings (a few sit next to float midpoints) */
    CHECKF(taken >= plain * 99 / 100 && plain > n / 10, "took %ld of %ld plain", taken, plain);
}

int main(void)
{
    TT_BEGIN("float_text");
    cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    RUN(edge_strings);
    RUN(halfway_cases);
    RUN(random_strings);
    RUN(printed_floats);
    RUN(print_edges);
    RUN(print_random);
    RUN(print_vs_reference);
    RUN(inline_parse);
    RUN(repr_vs_python);
    freelocale(cloc);
    TT_END();
}
