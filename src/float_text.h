/* SPDX-License-Identifier: Apache-2.0 */
/*
 * float_text.h - the inline fast path of ll_str_to_f32 for the text parsers' hot loops: a plain
 * [-]digits[.digits] number (1-8 integer digits, at most 7 fraction digits), converted exactly
 * as ll_str_to_f32's own fast path does (Clinger in double, float-midpoint guard).
 */
#ifndef LL_FNUM_H
#define LL_FNUM_H
#include "linlearn.h"
#include <stdint.h>
#include <string.h>

/*
 * Needs 32 readable bytes at s. Returns 0 when s does not start with such a number (or it lies
 * next to a float midpoint); else its length n, with *out set. The byte s[n] is never a digit
 * (nor a '.' unless one was taken); when it is also none of 'e', 'E', 'x', 'X' (which would
 * continue the number), n and *out are exactly ll_str_to_f32's. Callers check that byte against
 * their own terminators.
 */
static inline size_t float_text_fast(const char *s, float *out)
{
    const char *p = s;
    const int neg = *p == '-';
    p += neg;
    unsigned c = (unsigned)(unsigned char)*p - '0';
    if (c > 9)
        return 0;
    uint64_t w = c;
    p++;
    while ((c = (unsigned)(unsigned char)*p - '0') < 10) {
        w = w * 10 + c;
        p++;
        if (p - s > 9) /* over 8 integer digits */
            return 0;
    }
    int nf = 0;
    if (*p == '.') {
        p++;
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t t = v - 0x3030303030303030ull;
        uint64_t bad = (t | (t + 0x7676767676767676ull)) & 0x8080808080808080ull;
        if (!bad) /* 8 or more fraction digits */
            return 0;
        nf = __builtin_ctzll(bad) >> 3; /* 0..7 */
        if (nf) {
            t <<= 8 * (8 - nf); /* the bytes after the digits become leading zeros */
            t = t * 10 + (t >> 8);
            t = (((t & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
                 (((t >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
                32;
            static const uint32_t p10[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
            w = w * p10[nf] + t;
            p += nf;
        }
    }
    static const double neg_p10[8] = {1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7};
    double d = (double)w * neg_p10[nf]; /* w < 10^15 exact; nf = 0: exact */
    uint64_t bits;
    memcpy(&bits, &d, 8);
    if (nf && (bits & 0x1FFFFFFFu) - (0x10000000u - 8) <= 16) /* near a float midpoint */
        return 0;
    float f = (float)d;
    *out = neg ? -f : f;
    return (size_t)(p - s);
}
/* Writes v as Python 3's repr(float) prints it: the shortest decimal that reads back to the
 * same double, plain for 1e-4 <= |v| < 1e16 ("0.005", "20.0", "6.666666666666667"), else with an
 * exponent ("1e-05", "1.5e+16"); "nan", "inf", "-inf". out needs 32 bytes; returns the length. */
int float_text_repr(double v, char *out);
#endif
