/* SPDX-License-Identifier: Apache-2.0 */
/*
 * float_text.c - exact decimal text <-> float32. Parsing: a scanner that mirrors strtof's grammar,
 * a Clinger fast path in double precision (exact operands, one rounding, checked against the float
 * midpoints so the double rounding is harmless) and strtof_l in a "C" locale for the rest.
 * Printing: the rounding interval of the float computed exactly in double, scaled by 10^k per digit
 * count (certified against the scaling error, else the slow method), the nearest shortest decimal
 * in it, confirmed by one parse; the slow method binary-searches the digit count (1..9) and parses
 * each nearest candidate. float_text_repr prints a double as Python 3's repr() does (the log
 * lines SageMaker's Python container writes).
 */
#include "float_text.h"
#include "linlearn.h"
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static locale_t c_loc;
static pthread_once_t c_loc_once = PTHREAD_ONCE_INIT;

static void c_loc_make(void)
{
    c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static locale_t c_locale(void)
{
    pthread_once(&c_loc_once, c_loc_make);
    return c_loc;
}

/* "%.{p-1}e" of v in the "C" locale. */
static void snprintf_l_c(char *out, size_t cap, int p, double v)
{
    locale_t old = uselocale(c_locale());
    snprintf(out, cap, "%.*e", p - 1, v);
    uselocale(old);
}

/* strtof_l on a NUL-terminated copy of at most 127 bytes (hex floats, inf, nan). */
static size_t slow_copy(const char *s, size_t len, float *out)
{
    char buf[128];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    locale_t loc = c_locale();
    *out = loc ? strtof_l(buf, &end, loc) : strtof(buf, &end);
    return (size_t)(end - buf);
}

static const double pow10_tab[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

#define MAX_SIG 120 /* significant digits kept for the exact path (plus a sticky digit) */

static inline int is_digit(char c)
{
    return (unsigned)(c - '0') < 10u;
}

static inline int lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static const double neg_pow10[23] = {1e0,   1e-1,  1e-2,  1e-3,  1e-4,  1e-5,  1e-6,  1e-7,
                                     1e-8,  1e-9,  1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15,
                                     1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22};

static size_t parse_general(const char *s, size_t len, float *out);

/* Appends the run of decimal digits at *pp (up to end) to *w, eight at a time where the bytes
 * allow (SWAR); returns how many digits were consumed. The caller bounds the count. */
static inline int eat_digits(const char **pp, const char *end, uint64_t *w)
{
    const char *p = *pp;
    uint64_t acc = *w;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t t = v - 0x3030303030303030ull;
        uint64_t bad = (t | (t + 0x7676767676767676ull)) & 0x8080808080808080ull;
        int n = bad ? __builtin_ctzll(bad) >> 3 : 8;
        if (n == 0)
            break;
        if (n < 8)
            t <<= 8 * (8 - n); /* drop the bytes after the digits: they become leading zeros */
        t = t * 10 + (t >> 8);
        t = (((t & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
             (((t >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
            32;
        static const uint64_t p10[9] = {1,      10,      100,      1000,     10000,
                                        100000, 1000000, 10000000, 100000000};
        acc = acc * p10[n] + t;
        p += n;
        if (n < 8) {
            int k = (int)(p - *pp);
            *pp = p;
            *w = acc;
            return k;
        }
        if (p - *pp >= 24) /* beyond any use for the fast path: let the caller bail out */
            break;
    }
    while (p < end && is_digit(*p)) {
        acc = acc * 10 + (uint64_t)(*p - '0');
        p++;
    }
    int k = (int)(p - *pp);
    *pp = p;
    *w = acc;
    return k;
}

/*
 * The common case in one pass: [sign] digits [. digits] [e[sign]digits] with at most 19
 * digits in all and a result computed from exact w and 10^e in double. For e < 0 the factor
 * 10^e is itself rounded, so d may be a couple of double ulps from w*10^e: any d within 8
 * ulps of a float midpoint goes to the exact path instead.
 */
size_t ll_str_to_f32(const char *s, size_t len, float *out)
{
    const char *p = s, *end = s + len;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    uint64_t w = 0;
    const char *ds = p;
    while (p < end && is_digit(*p)) { /* the integer part is usually short */
        w = w * 10 + (uint64_t)(*p - '0');
        p++;
    }
    int nd = (int)(p - ds), nfrac = 0;
    if (p < end && (*p == 'x' || *p == 'X')) /* hexadecimal */
        return parse_general(s, len, out);
    if (p < end && *p == '.') {
        p++;
        nfrac = eat_digits(&p, end, &w);
        nd += nfrac;
    }
    if (nd == 0 || nd > 19)
        return parse_general(s, len, out);
    int e = -nfrac;
    if (p < end && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        int eneg = 0;
        if (q < end && (*q == '-' || *q == '+')) {
            eneg = *q == '-';
            q++;
        }
        if (q < end && is_digit(*q)) {
            int x = 0;
            while (q < end && is_digit(*q)) {
                if (x < 100000)
                    x = x * 10 + (*q - '0');
                q++;
            }
            e += eneg ? -x : x;
            p = q;
        }
    }
    if (w == 0) {
        *out = neg ? -0.0f : 0.0f;
        return (size_t)(p - s);
    }
    if (w <= ((uint64_t)1 << 53) && e >= -22 && e <= 22) {
        double d = (double)w;
        uint64_t bits;
        if (e >= 0) {
            d *= pow10_tab[e];
            memcpy(&bits, &d, 8);
            if ((bits & 0x1FFFFFFFu) == 0x10000000u)
                return parse_general(s, len, out);
        } else {
            d *= neg_pow10[-e];
            memcpy(&bits, &d, 8);
            if ((bits & 0x1FFFFFFFu) - (0x10000000u - 8) <= 16)
                return parse_general(s, len, out);
        }
        float f = (float)d;
        *out = neg ? -f : f;
        return (size_t)(p - s);
    }
    return parse_general(s, len, out);
}

static size_t parse_general(const char *s, size_t len, float *out)
{
    const char *p = s, *end = s + len;
    /* strtof skips leading white space (C locale isspace) */
    while (p < end && (*p == ' ' || (*p >= '\t' && *p <= '\r')))
        p++;
    const char *start = p;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    if (p >= end) {
        *out = 0.0f;
        return 0;
    }
    if (!is_digit(*p) && *p != '.') {
        char c = lower(*p);
        if (c == 'i' || c == 'n')
            return (size_t)(start - s) + slow_copy(start, (size_t)(end - start), out);
        *out = 0.0f;
        return 0;
    }
    if (*p == '0' && p + 1 < end && lower(p[1]) == 'x')
        return (size_t)(start - s) + slow_copy(start, (size_t)(end - start), out);

    /* mantissa: significant digits, the first 19 accumulated in w */
    uint64_t w = 0;
    int nsig = 0;     /* significant digits seen (saturates far above 19) */
    int64_t dexp = 0; /* decimal exponent adjustment from digit positions */
    int any = 0, dropped_nonzero = 0;
    const char *sig_beg = NULL; /* first significant digit (for the exact path) */
    while (p < end && is_digit(*p)) {
        any = 1;
        if (nsig == 0 && *p == '0') {
            p++;
            continue;
        }
        if (!sig_beg)
            sig_beg = p;
        if (nsig < 19)
            w = w * 10 + (uint64_t)(*p - '0');
        else {
            dexp++;
            dropped_nonzero |= *p != '0';
        }
        if (nsig < 1000000)
            nsig++;
        p++;
    }
    const char *dot = NULL;
    if (p < end && *p == '.') {
        dot = p;
        p++;
        while (p < end && is_digit(*p)) {
            any = 1;
            if (nsig == 0 && *p == '0') {
                dexp--;
                p++;
                continue;
            }
            if (!sig_beg)
                sig_beg = p;
            if (nsig < 19) {
                w = w * 10 + (uint64_t)(*p - '0');
                dexp--;
            } else
                dropped_nonzero |= *p != '0';
            if (nsig < 1000000)
                nsig++;
            p++;
        }
    }
    if (!any) {
        *out = 0.0f;
        return 0;
    }
    const char *mant_end = p;
    int64_t e10 = 0;
    if (p < end && lower(*p) == 'e') {
        const char *q = p + 1;
        int eneg = 0;
        if (q < end && (*q == '-' || *q == '+')) {
            eneg = *q == '-';
            q++;
        }
        if (q < end && is_digit(*q)) {
            while (q < end && is_digit(*q)) {
                if (e10 < 100000000)
                    e10 = e10 * 10 + (*q - '0');
                q++;
            }
            if (eneg)
                e10 = -e10;
            p = q;
        }
    }
    size_t used = (size_t)(p - s);
    if (w == 0 && !dropped_nonzero) {
        *out = neg ? -0.0f : 0.0f;
        return used;
    }
    int64_t e = e10 + dexp;
    if (nsig <= 19 && w <= ((uint64_t)1 << 53) && e >= -22 && e <= 22) {
        double d = (double)w;
        d = e >= 0 ? d * pow10_tab[e] : d / pow10_tab[-e];
        /* x = w*10^e lies in [1e-22, 2^53*1e22]: a normal float range, so the only way the
         * second rounding (to float) can go wrong is d landing on a float midpoint. */
        uint64_t bits;
        memcpy(&bits, &d, 8);
        if ((bits & 0x1FFFFFFFu) != 0x10000000u) {
            float f = (float)d;
            *out = neg ? -f : f;
            return used;
        }
    }
    /* exact path: rebuild a canonical string "-DDDD...e<exp>" of bounded length */
    char buf[MAX_SIG + 40];
    size_t n = 0;
    if (neg)
        buf[n++] = '-';
    int64_t exp_out = e10; /* value = digits * 10^(exp_out - frac digits) */
    int kept = 0, frac_kept = 0, sticky = 0, in_frac = dot && sig_beg > dot;
    for (const char *q = sig_beg; q < mant_end; q++) {
        if (q == dot) {
            in_frac = 1;
            continue;
        }
        if (kept < MAX_SIG) {
            buf[n++] = *q;
            kept++;
            frac_kept += in_frac;
        } else {
            if (!in_frac)
                exp_out++;
            sticky |= *q != '0';
        }
    }
    if (sticky) {
        buf[n++] = '1';
        frac_kept++;
    }
    if (dot && sig_beg > dot) /* leading fractional zeros before the first digit */
        exp_out -= (int64_t)(sig_beg - dot - 1);
    exp_out -= frac_kept;
    if (exp_out > 99999)
        exp_out = 99999;
    if (exp_out < -99999)
        exp_out = -99999;
    n += (size_t)snprintf(buf + n, sizeof buf - n, "e%lld", (long long)exp_out);
    locale_t loc = c_locale();
    *out = loc ? strtof_l(buf, NULL, loc) : strtof(buf, NULL);
    return used;
}

/* ---- printing ---- */

static const uint64_t pow10_u64[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};

/* 10^k for k in [-50, 60], each the double nearest to it */
static const double p10d[111] = {
    1e-50, 1e-49, 1e-48, 1e-47, 1e-46, 1e-45, 1e-44, 1e-43, 1e-42, 1e-41, 1e-40, 1e-39, 1e-38,
    1e-37, 1e-36, 1e-35, 1e-34, 1e-33, 1e-32, 1e-31, 1e-30, 1e-29, 1e-28, 1e-27, 1e-26, 1e-25,
    1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12,
    1e-11, 1e-10, 1e-9,  1e-8,  1e-7,  1e-6,  1e-5,  1e-4,  1e-3,  1e-2,  1e-1,  1e0,   1e1,
    1e2,   1e3,   1e4,   1e5,   1e6,   1e7,   1e8,   1e9,   1e10,  1e11,  1e12,  1e13,  1e14,
    1e15,  1e16,  1e17,  1e18,  1e19,  1e20,  1e21,  1e22,  1e23,  1e24,  1e25,  1e26,  1e27,
    1e28,  1e29,  1e30,  1e31,  1e32,  1e33,  1e34,  1e35,  1e36,  1e37,  1e38,  1e39,  1e40,
    1e41,  1e42,  1e43,  1e44,  1e45,  1e46,  1e47,  1e48,  1e49,  1e50,  1e51,  1e52,  1e53,
    1e54,  1e55,  1e56,  1e57,  1e58,  1e59,  1e60};
#define P10(k) p10d[(k) + 50]

/* Writes digits (exactly nd of them, value dig) times 10^e10 - (nd-1) in the plain style. */
static int format_dec(char *out, int neg, uint64_t dig, int nd, int e10)
{
    char d[20];
    for (int i = nd - 1; i >= 0; i--) {
        d[i] = (char)('0' + dig % 10);
        dig /= 10;
    }
    while (nd > 1 && d[nd - 1] == '0') /* trailing zeros carry no information */
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
            memcpy(o, d, (size_t)nd);
            o += nd;
        } else {
            for (int i = 0; i <= e10; i++)
                *o++ = i < nd ? d[i] : '0';
            if (nd > e10 + 1) {
                *o++ = '.';
                memcpy(o, d + e10 + 1, (size_t)(nd - e10 - 1));
                o += nd - e10 - 1;
            }
        }
    } else {
        *o++ = d[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)(nd - 1));
            o += nd - 1;
        }
        *o++ = 'e';
        int x = e10;
        *o++ = x < 0 ? '-' : '+';
        if (x < 0)
            x = -x;
        if (x >= 100)
            *o++ = (char)('0' + x / 100);
        *o++ = (char)('0' + x / 10 % 10);
        *o++ = (char)('0' + x % 10);
    }
    *o = 0;
    return (int)(o - out);
}

/* Does the nd-digit decimal dig * 10^(e10-nd+1) parse back to v? Formats it into out. */
static int try_cand(float v, int neg, uint64_t dig, int nd, int e10, char *out, int *len)
{
    if (dig >= pow10_u64[nd]) { /* carried into one more digit: 10..0 */
        dig /= 10;
        e10++;
    }
    if (dig == 0)
        return 0;
    *len = format_dec(out, neg, dig, nd, e10);
    float back;
    size_t used = ll_str_to_f32(out, (size_t)*len, &back);
    return used == (size_t)*len && memcmp(&back, &v, 4) == 0;
}

/* The nd-digit candidates around |v| nearest first; returns 1 and the text when one
 * round-trips. */
static int try_digits(float v, double av, int e10, int nd, char *out, int *len)
{
    int neg = signbit(v) != 0;
    double scaled = av * P10(nd - 1 - e10);
    double fl = floor(scaled);
    uint64_t lo = (uint64_t)fl;
    int up_first = scaled - fl > 0.5;
    for (int k = 0; k < 2; k++) {
        uint64_t dig = (k == 0) == up_first ? lo + 1 : lo;
        if (dig < pow10_u64[nd - 1] && dig != 0) /* fell below nd digits: not this length */
            continue;
        if (try_cand(v, neg, dig, nd, e10, out, len))
            return 1;
    }
    return 0;
}

static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                     "25262728293031323334353637383940414243444546474849"
                                     "50515253545556575859606162636465666768697071727374"
                                     "75767778798081828384858687888990919293949596979899";

/* Writes the n low decimal digits of x (leading zeros kept) at o[0..n). */
static inline void put_digits(char *o, uint32_t x, int n)
{
    while (n >= 2) {
        uint32_t q = x / 100, r = x - q * 100;
        o[n - 2] = digit_pairs[2 * r];
        o[n - 1] = digit_pairs[2 * r + 1];
        x = q;
        n -= 2;
    }
    if (n)
        o[0] = (char)('0' + x % 10);
}

/* format_dec for the fast path: d has exactly nd <= 9 digits. Same layout and output. */
static int format_short(char *out, int neg, uint32_t d, int nd, int e10)
{
    while (nd > 1 && d % 10 == 0) {
        d /= 10;
        nd--;
    }
    char *o = out;
    *o = '-';
    o += neg;
    if (e10 >= -4 && e10 < 10 &&
        (e10 < 0 ? nd - e10 + 1 : (nd > e10 + 1 ? nd + 1 : e10 + 1)) <= 14) {
        if (e10 < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = -1; i > e10; i--)
                *o++ = '0';
            put_digits(o, d, nd);
            o += nd;
        } else if (nd <= e10 + 1) {
            put_digits(o, d, nd);
            o += nd;
            for (int i = nd; i <= e10; i++)
                *o++ = '0';
        } else {
            int nf = nd - e10 - 1; /* digits after the point */
            uint32_t p = (uint32_t)pow10_u64[nf], ip = d / p;
            put_digits(o, ip, e10 + 1);
            o += e10 + 1;
            *o++ = '.';
            put_digits(o, d - ip * p, nf);
            o += nf;
        }
    } else {
        if (nd > 1) {
            uint32_t p = (uint32_t)pow10_u64[nd - 1], ip = d / p;
            *o++ = (char)('0' + ip);
            *o++ = '.';
            put_digits(o, d - ip * p, nd - 1);
            o += nd - 1;
        } else {
            *o++ = (char)('0' + d);
        }
        *o++ = 'e';
        int x = e10;
        *o++ = x < 0 ? '-' : '+';
        if (x < 0)
            x = -x;
        if (x >= 100)
            *o++ = (char)('0' + x / 100);
        *o++ = (char)('0' + x / 10 % 10);
        *o++ = (char)('0' + x % 10);
    }
    *o = 0;
    return (int)(o - out);
}

/* The certified-or-nothing shortest printer for finite non-zero v: returns the length, or 0
 * when double arithmetic cannot decide (near ties, a bound within the scaling error of an
 * integer: rare) and the slow method must run. The decimals that parse back to v fill the
 * interval [L, H] (midpoints to the neighbours, each exact in double). At 9 digits they are
 * the integers in [L, H] * 10^(8-e10); the scaled bounds carry at most two double roundings
 * (the power of ten, the product), far below the 2^-44 relative margin demanded of them from
 * the nearest integer, so their floors are exact. With lo9 = ceil and hi9 = floor, the
 * (9-j)-digit decimals in the interval are the integers in [ceil(lo9/10^j), floor(hi9/10^j)]:
 * non-empty for j = 0 and shrinking with j, so the shortest length is the largest j with a
 * non-empty range. The nearest candidate at that length is confirmed by an exact conversion
 * back to float. */
static int f32_to_str_fast(float v, char *out)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    const int neg = (int)(u >> 31);
    const uint32_t E = (u >> 23) & 0xFFu, M = u & 0x7FFFFFu;
    const double av = fabs((double)v);
    /* half an ulp of v: 2^(E-151) (subnormals: as for E = 1) */
    uint64_t hb = (uint64_t)((int)(E ? E : 1) - 151 + 1023) << 52;
    double half;
    memcpy(&half, &hb, 8);
    const double H = av + half;
    const double L = av - (M == 0 && E > 1 ? half * 0.5 : half);
    uint64_t db;
    memcpy(&db, &av, 8);
    int e2 = (int)(db >> 52) - 1023;
    int e10 = (e2 * 78913) >> 18; /* floor(e2 * log10(2)): 10^e10 <= 2^e2 <= av */
    if (av >= P10(e10 + 1))
        e10++;
    const double tol_rel = 0x1p-44;
    const double sc9 = P10(8 - e10);
    const double ls = L * sc9, hs = H * sc9;
    if (!(ls >= 1.0 && hs < 4e9)) /* 32-bit integers from here */
        return 0;
    const uint64_t lf = (uint64_t)ls, hf = (uint64_t)hs; /* floors */
    const double lt = ls * tol_rel, ht = hs * tol_rel;
    if (ls - (double)lf < lt || (double)lf + 1 - ls < lt || hs - (double)hf < ht ||
        (double)hf + 1 - hs < ht)
        return 0;
    uint32_t lo = (uint32_t)lf + 1, hi = (uint32_t)hf; /* the integers strictly inside (ls, hs) */
    if (lo > hi)
        return 0;
    int nd = 9;
    while (nd > 1) {
        uint32_t l2 = (lo + 9) / 10, h2 = hi / 10;
        if (l2 > h2)
            break;
        lo = l2;
        hi = h2;
        nd--;
    }
    const double vs = av * P10(nd - 1 - e10);
    if (!(vs >= 0.5 && vs < 1e10))
        return 0;
    uint64_t vf = (uint64_t)vs, d;
    const double fr = vs - (double)vf, vt = vs * tol_rel;
    if (fr > 0.5 - vt && fr < 0.5 + vt && vf >= lo && vf + 1 <= hi)
        return 0; /* a near tie between two candidates */
    d = fr > 0.5 ? vf + 1 : vf;
    if (d < lo)
        d = lo;
    if (d > hi)
        d = hi;
    int ex = e10;
    if (d == pow10_u64[nd]) {
        d = 1;
        nd = 1;
        ex++;
    } else if (d > pow10_u64[nd] || d < pow10_u64[nd - 1]) {
        return 0;
    }
    /* confirm: d * 10^k back to float as ll_str_to_f32 would (Clinger: exact operands, one
     * rounding in double, away from float midpoints), else by parsing the text */
    int len = format_short(out, neg, (uint32_t)d, nd, ex);
    int k = ex - nd + 1;
    float back;
    double x = (double)d;
    uint64_t xb;
    if (k >= -22 && k <= 22) {
        x = k >= 0 ? x * pow10_tab[k] : x / pow10_tab[-k];
        memcpy(&xb, &x, 8);
        if ((xb & 0x1FFFFFFFu) != 0x10000000u) {
            back = (float)x;
            return back == (float)av ? len : 0;
        }
    }
    if (ll_str_to_f32(out, (size_t)len, &back) != (size_t)len || memcmp(&back, &v, 4) != 0)
        return 0;
    return len;
}

int ll_f32_to_str(float v, char *out)
{
    if (isnan(v)) {
        memcpy(out, "nan", 4);
        return 3;
    }
    if (isinf(v)) {
        if (v < 0) {
            memcpy(out, "-inf", 5);
            return 4;
        }
        memcpy(out, "inf", 4);
        return 3;
    }
    if (v == 0) {
        if (signbit(v)) {
            memcpy(out, "-0", 3);
            return 2;
        }
        memcpy(out, "0", 2);
        return 1;
    }
    int fast = f32_to_str_fast(v, out);
    if (fast)
        return fast;
    double av = fabs((double)v);
    int e10 = (int)floor(log10(av));
    /* log10 may be off by one next to powers of ten */
    if (av < P10(e10))
        e10--;
    else if (av >= P10(e10 + 1))
        e10++;
    char tmp[32];
    int tlen = 0, best = 0, best_len = 0;
    char best_s[32];
    /* binary search the smallest nd in 1..9 for which some nd-digit decimal round-trips;
     * the property is monotonic in nd (an nd-digit decimal is also an (nd+1)-digit one). */
    int lo = 1, hi = 9;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int ok = try_digits(v, av, e10, mid, tmp, &tlen);
        if (ok) {
            best = mid;
            best_len = tlen;
            memcpy(best_s, tmp, (size_t)tlen + 1);
            hi = mid - 1;
        } else {
            lo = mid + 1;
        }
    }
    if (!best) { /* cannot happen for finite floats; stay correct regardless */
        best_len = snprintf(best_s, sizeof best_s, "%.9g", (double)v);
    }
    memcpy(out, best_s, (size_t)best_len + 1);
    return best_len;
}

int float_text_repr(double v, char *out)
{
    if (isnan(v))
        return snprintf(out, 32, "nan");
    if (isinf(v))
        return snprintf(out, 32, v < 0 ? "-inf" : "inf");
    if (v == 0)
        return snprintf(out, 32, signbit(v) ? "-0.0" : "0.0");
    char e[40];
    int p = 1;
    for (; p < 17; p++) { /* the fewest significant digits that read back as v */
        snprintf_l_c(e, sizeof e, p, v);
        if (strtod_l(e, NULL, c_locale()) == v)
            break;
    }
    snprintf_l_c(e, sizeof e, p, v);
    /* e is "[-]d[.ddd]e[+-]xx": collect the digits and the exponent */
    const char *s = e;
    int neg = *s == '-';
    s += neg;
    char d[24];
    int nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9')
            d[nd++] = *s;
    int x = atoi(s + 1);
    while (nd > 1 && d[nd - 1] == '0')
        nd--;
    char *o = out;
    if (neg)
        *o++ = '-';
    if (x >= -5 + 1 && x < 16) { /* Python's repr: plain notation for 1e-4 <= |v| < 1e16 */
        if (x < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = -1; i > x; i--)
                *o++ = '0';
            memcpy(o, d, (size_t)nd);
            o += nd;
        } else {
            for (int i = 0; i <= x; i++)
                *o++ = i < nd ? d[i] : '0';
            *o++ = '.';
            if (nd > x + 1) {
                memcpy(o, d + x + 1, (size_t)(nd - x - 1));
                o += nd - x - 1;
            } else
                *o++ = '0';
        }
        *o = 0;
        return (int)(o - out);
    }
    *o++ = d[0];
    if (nd > 1) {
        *o++ = '.';
        memcpy(o, d + 1, (size_t)(nd - 1));
        o += nd - 1;
    }
    return (int)(o - out) + snprintf(o, 8, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
}
