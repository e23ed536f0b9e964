/* SPDX-License-Identifier: Apache-2.0 */
/* suggest.c - "did you mean": the known name closest to a mistyped one (ll_closest), by edit
 * distance with transpositions, for commands, options and hyperparameter names. */
#include "linlearn.h"
#include <ctype.h>
#include <string.h>

#define MAXW 64

/* Optimal string alignment distance, case-insensitive; MAXW+1 for longer words. */
static size_t distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > MAXW || m > MAXW)
        return MAXW + 1;
    size_t d[MAXW + 1][MAXW + 1];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            size_t v = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

const char *ll_closest(const char *word, const char *const *names, size_t n)
{
    if (!word || !*word)
        return NULL;
    size_t len = strlen(word);
    /* a third of the word's letters may be wrong, at least one, at most three */
    size_t limit = len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3;
    const char *best = NULL;
    size_t bd = limit + 1;
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        size_t d = distance(word, names[i]);
        /* a name the word begins, or that begins the word, counts as one edit away */
        size_t ln = strlen(names[i]);
        if (d > 1 && ln >= 3 && len >= 3 && (!strncmp(word, names[i], ln < len ? ln : len)))
            d = 1;
        if (d < bd) {
            bd = d;
            best = names[i];
        }
    }
    return best;
}
