/* SPDX-License-Identifier: Apache-2.0 */
/* fnum.c - decimal text <-> float32. Placeholder on the C library (strtof_l in the C locale,
 * printf); to be replaced by the fast exact versions. */
#include "linlearn.h"
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static locale_t c_locale(void)
{
    static locale_t loc;
    if (!loc)
        loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    return loc;
}

size_t ll_str_to_f32(const char *s, size_t len, float *out)
{
    char buf[128];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *end;
    *out = strtof_l(buf, &end, c_locale());
    return (size_t)(end - buf);
}

int ll_f32_to_str(float v, char *out)
{
    for (int prec = 1; prec <= 9; prec++) {
        int n = snprintf(out, 16, "%.*g", prec, (double)v);
        float back = strtof_l(out, NULL, c_locale());
        if (memcmp(&back, &v, 4) == 0 || v != v)
            return n;
    }
    return snprintf(out, 16, "%.9g", (double)v);
}
