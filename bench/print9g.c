/* SPDX-License-Identifier: Apache-2.0 */
/* print9g.c - rewrites a numeric CSV (stdin) with every number printed "%.9g" (stdout): the
 * CSV that issue 12's CSV->RecordIO target is stated for. Benchmark helper only. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin)) {
        char *p = line, *e;
        int first = 1;
        for (;;) {
            double v = strtod(p, &e);
            if (e == p)
                break;
            printf(first ? "%.9g" : ",%.9g", v);
            first = 0;
            p = *e == ',' ? e + 1 : e;
        }
        putchar('\n');
    }
    return 0;
}
