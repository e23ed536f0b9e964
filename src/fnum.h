/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fnum.h - the inline fast path of ll_str_to_f32 for the text parsers' hot loops: a plain
 * [-]digits[.digits] number with at most 8 integer and 7 fraction digits, converted exactly as
 * ll_str_to_f32's own fast path does (Clinger, float-midpoint guard). Anything else (exponent,
 * '+', hex, inf/nan, long digit runs, a buffer end within 32 bytes) goes to ll_str_to_f32, so
 * the result and the length consumed are always ll_str_to_f32's.
 */
#ifndef LL_FNUM_H
#define LL_FNUM_H
#include "linlearn.h"
#include <stdint.h>
#include <string.h>

static const double fnum_neg_pow10[8] = {1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7};

/* ll_str_to_f32(s, end - s, out), faster for the common short spellings. */
static inline size_t fnum_parse(const char *s, const char *end, float *out)
{
    if (end - s < 32)
        return ll_str_to_f32(s, (size_t)(end - s), out);
    const char *p = s;
    const int neg = *p == '-';
    p += neg;
    uint64_t w = 0;
    const char *ds = p;
    while ((unsigned)(*p - '0') < 10u) {
        w = w * 10 + (uint64_t)(*p - '0');
        p++;
        if (p - ds > 8)
            return ll_str_to_f32(s, (size_t)(end - s), out);
    }
    int ni = (int)(p - ds), nf = 0;
    if (*p == '.') {
        p++;
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t t = v - 0x3030303030303030ull;
        uint64_t bad = (t | (t + 0x7676767676767676ull)) & 0x8080808080808080ull;
        if (!bad) /* 8 or more fraction digits */
            return ll_str_to_f32(s, (size_t)(end - s), out);
        nf = __builtin_ctzll(bad) >> 3;
        if (nf == 8) /* the eighth byte alone is not a digit */
            return ll_str_to_f32(s, (size_t)(end - s), out);
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
    if (ni + nf == 0 || (*p | 0x20) == 'e' || (*p | 0x20) == 'x')
        return ll_str_to_f32(s, (size_t)(end - s), out);
    if (w == 0) {
        *out = neg ? -0.0f : 0.0f;
        return (size_t)(p - s);
    }
    double d = (double)w; /* exact: w < 10^15 */
    if (nf) {
        d *= fnum_neg_pow10[nf];
        uint64_t bits;
        memcpy(&bits, &d, 8);
        if ((bits & 0x1FFFFFFFu) - (0x10000000u - 8) <= 16) /* near a float midpoint */
            return ll_str_to_f32(s, (size_t)(end - s), out);
    }
    float f = (float)d;
    *out = neg ? -f : f;
    return (size_t)(p - s);
}
#endif
